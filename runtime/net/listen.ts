import type { Server } from 'net';

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no such address on this host',
  EACCES: 'permission denied',
  ENOTFOUND: 'unknown host',
};

/** A listener that could not bind, in one line naming the address and what it was for. */
export class ListenError extends Error {
  constructor(purpose: string, host: string, port: number, cause: unknown) {
    super(`cannot listen on ${host}:${port} (${purpose}): ${reasonOf(cause)}`, { cause });
    this.name = 'ListenError';
  }
}

function reasonOf(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && code in REASONS) return `${REASONS[code]} (${code})`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Binds `server` to host:port (0: any free port); a failure rejects with a ListenError and leaves nothing open. */
export function listen(server: Server, host: string, port: number, purpose: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(new ListenError(purpose, host, port, error));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
