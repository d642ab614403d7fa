import { EslClient } from '../esl';
import { MediaServerClient, type EslCommander } from '../media-server';
import type { EslPasswordSource } from './esl-password-source';
import { inventoryMediaServer, type FleetInventory } from './fleet-inventory';

/** An authenticated ESL connection to one media server: its route table and raw api commands. */
export interface MediaServerSession extends EslCommander {
  readonly client: MediaServerClient;
}

/** Gives the steps a media server's ESL connection for one piece of work. */
export interface MediaServerSessions {
  use<T>(mediaServerId: string, work: (session: MediaServerSession) => Promise<T>): Promise<T>;
  /** Closes any connection kept open. */
  close(): Promise<void>;
}

export interface InventorySessionsOptions {
  readonly inventory: FleetInventory;
  readonly passwords: EslPasswordSource;
  /**
   * Keep one connection per media server open across steps (the local orchestrator polls every few
   * hundred ms). Off for Lambda, where each step connects and closes.
   */
  readonly keepOpen: boolean;
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
}

/** Sessions to the inventory's media servers; a kept connection that closed (e.g. FreeSWITCH restarted) is reopened on next use. */
export function inventoryMediaServerSessions(options: InventorySessionsOptions): MediaServerSessions {
  const open = new Map<string, Promise<EslClient>>();

  const connect = async (mediaServerId: string): Promise<EslClient> => {
    const { esl } = inventoryMediaServer(options.inventory, mediaServerId);
    return EslClient.connect({
      host: esl.host,
      port: esl.port,
      password: await options.passwords.password(mediaServerId),
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
    });
  };

  const kept = async (mediaServerId: string): Promise<EslClient> => {
    const existing = open.get(mediaServerId);
    if (existing !== undefined) {
      const client = await existing.catch(() => undefined);
      if (client !== undefined && !client.isClosed) return client;
    }
    const fresh = connect(mediaServerId);
    open.set(mediaServerId, fresh);
    fresh.catch(() => open.delete(mediaServerId));
    return fresh;
  };

  const session = (esl: EslClient): MediaServerSession => ({ client: new MediaServerClient(esl), api: (command) => esl.api(command) });

  return {
    async use(mediaServerId, work) {
      if (options.keepOpen) return work(session(await kept(mediaServerId)));
      const esl = await connect(mediaServerId);
      try {
        return await work(session(esl));
      } finally {
        await esl.close();
      }
    },
    async close() {
      const clients = await Promise.all([...open.values()].map((client) => client.catch(() => undefined)));
      open.clear();
      await Promise.all(clients.map((client) => client?.close()));
    },
  };
}
