import type { Server } from 'http';
import type { AddressInfo } from 'net';

/** A DynamoDB endpoint served in this process by dynalite (the demo and local runs of `voiceplane upgrade`). */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

type DynaliteFactory = (options: { path?: string; createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

function loadDynalite(): DynaliteFactory {
  // dynalite ships no type declarations; check the one function used.
  const loaded: unknown = require('dynalite');
  if (typeof loaded !== 'function') throw new Error('the dynalite package does not export a server factory');
  return loaded as DynaliteFactory;
}

/** Starts dynalite on 127.0.0.1 (ephemeral port); in memory unless `path` names a LevelDB directory. */
export async function startEmbeddedDynamoDb(options: { path?: string } = {}): Promise<EmbeddedDynamoDb> {
  const server = loadDynalite()({ ...options, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
