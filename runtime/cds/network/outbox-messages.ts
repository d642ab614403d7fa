import { z } from 'zod';
import {
  PEER_PATHS,
  endRequestSchema,
  registerRequestSchema,
  unregisterRequestSchema,
  type EndRequest,
  type RegisterRequest,
  type UnregisterRequest,
} from './peer-messages';

/**
 * Control messages to a peer, kept in the outbox until the peer has taken them. One per peer, call and topic: a
 * newer one replaces the pending one (an unregistration replaces a registration). `version` is bumped on every
 * replacement, so delivering an older version does not delete a newer one.
 */
export type OutboxMessage =
  | { readonly kind: 'register'; readonly peer: string; readonly callId: string; readonly body: RegisterRequest; readonly version: number }
  | { readonly kind: 'unregister'; readonly peer: string; readonly callId: string; readonly body: UnregisterRequest; readonly version: number }
  | { readonly kind: 'end'; readonly peer: string; readonly callId: string; readonly body: EndRequest; readonly version: number };

type WithoutVersion<T> = T extends unknown ? Omit<T, 'version'> : never;

/** A message about to be stored (the store gives it its version). */
export type NewOutboxMessage = WithoutVersion<OutboxMessage>;

export type OutboxKind = OutboxMessage['kind'];

export type OutboxTopic = 'registration' | 'end';

/** The slot a message takes in the outbox. */
export function outboxTopic(kind: OutboxKind): OutboxTopic {
  return kind === 'end' ? 'end' : 'registration';
}

/** The peer API path each kind is sent to (also what the stored item records). */
export const OUTBOX_PATHS = { register: PEER_PATHS.register, unregister: PEER_PATHS.unregister, end: PEER_PATHS.end } as const satisfies Record<OutboxKind, string>;

const BODY_SCHEMAS = { register: registerRequestSchema, unregister: unregisterRequestSchema, end: endRequestSchema } as const;

/** The kind of a stored message, from the path it records. */
function outboxKindOf(path: string): OutboxKind | undefined {
  return (Object.keys(OUTBOX_PATHS) as OutboxKind[]).find((kind) => OUTBOX_PATHS[kind] === path);
}

/** A stored message, its body checked against its kind's schema; throws naming what is wrong. */
export function parseOutboxMessage(stored: { peer: string; callId: string; path: string; body: unknown; version: number }): OutboxMessage {
  const kind = outboxKindOf(stored.path);
  if (!kind) throw new Error(`path: ${stored.path} is not a control message`);
  const parsed = (BODY_SCHEMAS[kind] as z.ZodType).safeParse(stored.body);
  if (!parsed.success) throw new Error(`body: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  return { kind, peer: stored.peer, callId: stored.callId, body: parsed.data, version: stored.version } as OutboxMessage;
}
