import { z } from 'zod';
import { DestinationIds, parseDestinationAttributes } from './dispatcher-list';
import { KamailioRpc } from './kamailio-rpc';
import { SipError } from './sip-error';

/**
 * A destination's state in Kamailio's dispatcher, as voiceplane names it:
 * active (gets new calls), trying (a probe failed; still gets calls until the threshold),
 * inactive (probes failed; comes back when they succeed), drained (disabled by an operator; not probed).
 */
export type DestinationState = 'active' | 'trying' | 'inactive' | 'drained';

export interface DispatcherDestination {
  readonly setId: number;
  readonly uri: string;
  readonly state: DestinationState;
  /** Whether OPTIONS probes may change the state. */
  readonly probing: boolean;
  /** Ids tagged by the rendered dispatcher list; undefined for destinations added by hand. */
  readonly ids?: DestinationIds;
}

const STATE_LETTERS: Readonly<Record<string, DestinationState>> = { A: 'active', T: 'trying', I: 'inactive', D: 'drained' };

const destinationSchema = z.looseObject({
  URI: z.string(),
  FLAGS: z.string().regex(/^[ATID][PX]$/, 'expected dispatcher flags such as AP or DX'),
  ATTRS: z.looseObject({ BODY: z.string().nullable().optional() }).optional(),
});

const listSchema = z.looseObject({
  RECORDS: z
    .array(z.looseObject({ SET: z.looseObject({ ID: z.number().int(), TARGETS: z.array(z.looseObject({ DEST: destinationSchema })).default([]) }) }))
    .default([]),
});

/** Every destination of every set, from the node's `dispatcher.list`. */
export async function listDestinations(rpc: KamailioRpc): Promise<DispatcherDestination[]> {
  const result = await rpc.call('dispatcher.list');
  const parsed = listSchema.safeParse(result);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new SipError(`Kamailio RPC at ${rpc.name}: unexpected dispatcher.list result at ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data.RECORDS.flatMap((record) =>
    record.SET.TARGETS.map(({ DEST }) => {
      const ids = parseDestinationAttributes(DEST.ATTRS?.BODY ?? '');
      return { setId: record.SET.ID, uri: DEST.URI, state: STATE_LETTERS[DEST.FLAGS[0]], probing: DEST.FLAGS[1] === 'P', ...(ids ? { ids } : {}) };
    }),
  );
}

/**
 * Drained = disabled ('d'): not selected and not probed, so a healthy media server stays out.
 * Undrained = inactive and probing ('ip'): it takes calls again once it answers the probes, so
 * undraining a media server that is down does not send it calls.
 */
const STATE_CODES = { drained: 'd', undrained: 'ip' } as const;

export async function setDestinationState(rpc: KamailioRpc, destination: Pick<DispatcherDestination, 'setId' | 'uri'>, state: keyof typeof STATE_CODES): Promise<void> {
  await rpc.call('dispatcher.set_state', [STATE_CODES[state], destination.setId, destination.uri]);
}

const STATE_LETTER_CODES: Readonly<Record<DestinationState, string>> = { active: 'a', trying: 't', inactive: 'i', drained: 'd' };

/** Writes back the state and probing flag a destination was read with: how a partial change is rolled back. */
export async function restoreDestinationState(rpc: KamailioRpc, destination: Pick<DispatcherDestination, 'setId' | 'uri' | 'state' | 'probing'>): Promise<void> {
  const code = `${STATE_LETTER_CODES[destination.state]}${destination.probing ? 'p' : ''}`;
  await rpc.call('dispatcher.set_state', [code, destination.setId, destination.uri]);
}
