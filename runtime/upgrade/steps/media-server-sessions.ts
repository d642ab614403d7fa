import { CALL_CONTROL_GROUP_VARIABLE } from '../../dialplan';
import { EslClient, type EslEvent } from '../../esl';
import { MediaServerClient, type EslCommander } from '../../media-server';
import type { EslPasswordSource } from './esl-password-source';
import { inventoryMediaServer, type FleetInventory } from '../inventory/fleet-inventory';

/** An authenticated ESL connection to one media server: its route table and raw api commands. */
export interface MediaServerSession extends EslCommander {
  readonly client: MediaServerClient;
}

/** Gives the steps a media server's ESL connection for one piece of work. */
export interface MediaServerSessions {
  use<T>(mediaServerId: string, work: (session: MediaServerSession) => Promise<T>): Promise<T>;
  /**
   * Settles when a call of `groupId` ends on the media server (its CHANNEL_HANGUP_COMPLETE), or when
   * `signal` aborts, so a drain wait checks again at once rather than at its next poll. Only kept
   * connections listen; without one it settles on `signal` alone.
   */
  groupCallEnded(mediaServerId: string, groupId: string, signal: AbortSignal): Promise<void>;
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

  const hangupSubscriptions = new WeakMap<EslClient, Promise<void>>();
  const subscribedToHangups = (client: EslClient): Promise<void> => {
    let subscription = hangupSubscriptions.get(client);
    if (subscription === undefined) {
      subscription = client.subscribe([HANGUP_EVENT]);
      hangupSubscriptions.set(client, subscription);
    }
    return subscription;
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
    async groupCallEnded(mediaServerId, groupId, signal) {
      if (!options.keepOpen) return aborted(signal);
      const client = await kept(mediaServerId);
      await subscribedToHangups(client);
      return new Promise<void>((resolve) => {
        const settle = () => {
          client.off('event', onEvent);
          client.off('close', settle);
          signal.removeEventListener('abort', settle);
          resolve();
        };
        const onEvent = (event: EslEvent) => {
          if (event.name === HANGUP_EVENT && event.headers[`variable_${CALL_CONTROL_GROUP_VARIABLE}`] === groupId) settle();
        };
        client.on('event', onEvent);
        client.on('close', settle);
        signal.addEventListener('abort', settle, { once: true });
        if (signal.aborted) settle();
      });
    },
    async close() {
      const clients = await Promise.all([...open.values()].map((client) => client.catch(() => undefined)));
      open.clear();
      await Promise.all(clients.map((client) => client?.close()));
    },
  };
}

const HANGUP_EVENT = 'CHANNEL_HANGUP_COMPLETE';

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
