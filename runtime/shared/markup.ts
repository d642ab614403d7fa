/** Text for HTML and SVG content and attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A number as SVG writes it: at most two decimals. */
export function svgNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}
