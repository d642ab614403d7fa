/**
 * Runs a probe (a script a test starts in namespaces of its own) and prints what it found as ONE JSON line on
 * stdout, the last thing it prints: its report, or `{"error": stack}`. Exits 0 or 1 accordingly, which also ends
 * whatever the probe left running in its namespace.
 */
export function reportAsJsonLine(probe: () => Promise<unknown>): void {
  probe().then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) })}\n`);
      process.exit(1);
    },
  );
}
