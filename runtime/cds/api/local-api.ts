import type { IncomingMessage, ServerResponse } from 'http';
import { z } from 'zod';
import { jsonValueSchema } from '../call/call-entries';
import type { CallEventStreams } from './call-event-streams';
import { CdsRequestError, unknownCall } from '../call/cds-errors';
import type { CdsRoute } from './cds-routes';
import { parseJsonBody, parsePathParameter, readRequestBody, sendJson } from './http-body';
import { callIdSchema, clientIdSchema, propertyNameSchema } from '../call/identifiers';
import type { LocalCallStore } from '../store/local-call-store';
import { clientStatus } from '../replication/owner-registration';
import type { ParticipantReplication } from '../replication/participant-replication';

export interface LocalApiOptions {
  readonly calls: LocalCallStore;
  readonly participant: Pick<ParticipantReplication, 'waitUntilRegistered'>;
  readonly streams: CallEventStreams;
  /** How long a registration for a foreign call waits for the owner's answer before replying `pending`. */
  readonly registrationWaitMs: number;
}

/** Bound on a local request body: one value or log entry with some room. */
const LOCAL_BODY_LIMIT_BYTES = 64 * 1024;

/** Arrays and objects in a local body: a value nested up to 31 deep. A peer body takes it with its envelope. */
export const LOCAL_JSON_DEPTH_LIMIT = 32;

const registrationBody = z.strictObject({ client: clientIdSchema });
const propertyBody = z.strictObject({ value: jsonValueSchema });
const logBody = z.strictObject({ entry: jsonValueSchema });

/** `/health` and `/metrics` are the listener's; every route here has been authenticated. */
type LocalRoute = Exclude<CdsRoute, { name: 'peer' | 'health' | 'metrics' }>;

/** The site-internal API of local clients (see the contract). */
export class LocalApi {
  constructor(private readonly options: LocalApiOptions) {}

  async handle(route: LocalRoute, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const callId = parsePathParameter(route.callId, callIdSchema, 'callId');
    const { calls } = this.options;
    switch (route.name) {
      case 'call': {
        const call = await calls.find(callId);
        if (!call) throw unknownCall(callId);
        sendJson(response, 200, call.record.view());
        return;
      }
      case 'register-client': {
        const { client } = parseJsonBody(await readRequestBody(request, LOCAL_BODY_LIMIT_BYTES), registrationBody, LOCAL_JSON_DEPTH_LIMIT);
        await calls.registerClient(callId, client);
        let upstream: 'owner' | 'registered' | 'pending' = 'owner';
        if (!calls.isOwnerOf(callId)) upstream = (await this.options.participant.waitUntilRegistered(callId, this.options.registrationWaitMs)) ? 'registered' : 'pending';
        const call = await calls.find(callId);
        sendJson(response, 201, { client, upstream, call: call?.record.view() });
        return;
      }
      case 'unregister-client': {
        const client = parsePathParameter(route.client, clientIdSchema, 'client');
        await calls.unregisterClient(callId, client);
        sendJson(response, 204, undefined);
        return;
      }
      case 'events': {
        // Refused before the table is read: a stream beyond the caps costs nothing.
        this.options.streams.checkRoom(callId);
        const call = await calls.find(callId);
        this.options.streams.open(callId, response, call?.record.view());
        return;
      }
      case 'property': {
        const name = parsePathParameter(route.property, propertyNameSchema, 'name');
        const { value } = parseJsonBody(await readRequestBody(request, LOCAL_BODY_LIMIT_BYTES), propertyBody, LOCAL_JSON_DEPTH_LIMIT);
        const entry = await calls.write(callId, { kind: 'property', name, value });
        sendJson(response, 200, { name, value, ts: entry.ts, site: entry.site });
        return;
      }
      case 'log': {
        const { entry: text } = parseJsonBody(await readRequestBody(request, LOCAL_BODY_LIMIT_BYTES), logBody, LOCAL_JSON_DEPTH_LIMIT);
        const entry = await calls.write(callId, { kind: 'log', entry: text });
        sendJson(response, 201, { id: entry.kind === 'log' ? entry.id : '', ts: entry.ts, site: entry.site, entry: text });
        return;
      }
      case 'end': {
        if (!calls.isOwnerOf(callId)) throw new CdsRequestError(409, `only the owner site of ${callId} ends it`, 'not-owner');
        const call = await calls.endCall(callId);
        sendJson(response, 200, call.record.view());
        return;
      }
      case 'participants': {
        const call = await calls.find(callId);
        if (!call) throw unknownCall(callId);
        sendJson(response, 200, {
          callId,
          owner: call.owner,
          local: [...call.clients].sort(),
          remote: [...call.participants.keys()].sort(),
          upstream: call.upstream ? clientStatus(call.upstream.status) : null,
        });
        return;
      }
    }
  }
}
