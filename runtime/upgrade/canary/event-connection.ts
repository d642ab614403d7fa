import { ReconnectingEslClient, type EslEvent, type ReconnectingEslClientOptions } from '../../esl';

/** Which events a connection carries: FreeSWITCH's filters (any one passes an event) and the event names. */
export interface EventSelection {
  readonly filters: readonly (readonly [header: string, value: string])[];
  readonly events: readonly string[];
}

export interface EventConnection {
  readonly client: ReconnectingEslClient;
  /** Settles once the filters and the subscription are registered: applied if connected, else at the connection. */
  readonly registered: Promise<void>;
  /** Settles at the first connection (never, if the media server cannot be reached). */
  readonly connected: Promise<void>;
}

/**
 * A connection of its own to a media server's event socket, carrying only `selection` to `onEvent`: its filters and
 * subscription are registered for the life of the client, so a reconnection applies them again. The client is
 * returned at once, so a caller's own listeners (`connected`, `disconnected`) miss no event.
 */
export function openEventConnection(esl: ReconnectingEslClientOptions, selection: EventSelection, onEvent: (event: EslEvent) => void): EventConnection {
  const client = ReconnectingEslClient.start(esl);
  const connected = new Promise<void>((resolve) => client.once('connected', resolve));
  client.on('event', onEvent);
  const register = async (): Promise<void> => {
    for (const [header, value] of selection.filters) await client.filter(header, value);
    await client.subscribe(selection.events);
  };
  return { client, registered: register(), connected };
}
