/** The ports a `cds serve` node announced in its `listening` log line; undefined for any other line. */
export function listeningPorts(line: string): { readonly port: number; readonly peerPort: number } | undefined {
  let entry: { msg?: unknown; localApi?: unknown; peerApi?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  if (entry.msg !== 'listening' || typeof entry.localApi !== 'string' || typeof entry.peerApi !== 'string') return undefined;
  return { port: Number(new URL(entry.localApi).port), peerPort: Number(new URL(entry.peerApi).port) };
}

/** The ports of the first `listening` line among `lines`. */
export function announcedPorts(lines: readonly string[]): { readonly port: number; readonly peerPort: number } | undefined {
  for (const line of lines) {
    const ports = listeningPorts(line);
    if (ports) return ports;
  }
  return undefined;
}
