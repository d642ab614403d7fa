import { randomBytes } from 'crypto';

/** A fresh upgrade id: `upgrade-<UTC time>-<random>`, valid as a Step Functions execution name. */
export function newUpgradeId(nowMs: number, random: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `upgrade-${stamp}-${random()}`;
}
