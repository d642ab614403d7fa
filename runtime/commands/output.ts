/** Where a command writes; tests and the CLI entry point provide it. */
export interface Output {
  line(text: string): void;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [format(header), ...rows.map(format)];
}
