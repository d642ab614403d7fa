import dynalite from 'dynalite';
import type { AddressInfo } from 'net';

/** A DynamoDB endpoint served in this process by dynalite (local runs of `voiceplane upgrade`, `cds serve`, the demo and tests). */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Idle keep-alive connections stay open longer than the SDK leaves them unused, so a request never goes out
 * on a connection the server is closing (Node's default is 5 s).
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Starts dynalite on 127.0.0.1 (ephemeral port); in memory unless `path` names a LevelDB directory, which survives a crash. */
export async function startEmbeddedDynamoDb(options: { path?: string } = {}): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ ...options, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
