import dynalite from 'dynalite';
import type { AddressInfo } from 'net';

export interface EmbeddedDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** A local DynamoDB (dynalite, in memory) in this process, on 127.0.0.1 and an ephemeral port. */
export async function startEmbeddedDynamo(): Promise<EmbeddedDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
