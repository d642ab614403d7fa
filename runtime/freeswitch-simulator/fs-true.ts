/** switch_true: yes/on/true/t/enabled/active/allow, or a non-zero number. */
export function isFsTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const lower = value.trim().toLowerCase();
  if (['yes', 'on', 'true', 't', 'enabled', 'active', 'allow'].includes(lower)) return true;
  return /^-?\d+$/.test(lower) && parseInt(lower, 10) !== 0;
}
