import { z } from 'zod';
import { EslProtocolError } from './errors';

/** The CHANNEL_DATA that FreeSWITCH sends an outbound socket in reply to `connect`. */
export interface ChannelData {
  /** Every header, URL-decoded (Unique-ID, Caller-*, variable_*, Socket-Mode, Control...). */
  readonly headers: Readonly<Record<string, string>>;
  readonly uuid: string;
  readonly callerIdNumber?: string;
  readonly destinationNumber?: string;
  /** `async` (the dialplan used `socket ... async`) or `static`. */
  readonly socketMode?: string;
}

const channelDataSchema = z.object({
  'Event-Name': z.literal('CHANNEL_DATA'),
  'Unique-ID': z.string().min(1),
  'Reply-Text': z.string().startsWith('+OK'),
  'Caller-Caller-ID-Number': z.string().optional(),
  'Caller-Destination-Number': z.string().optional(),
  'Socket-Mode': z.string().optional(),
});

/** Validates decoded CHANNEL_DATA headers; throws EslProtocolError naming what is missing or wrong. */
export function parseChannelData(peer: string, headers: Record<string, string>): ChannelData {
  const parsed = channelDataSchema.safeParse(headers);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new EslProtocolError(peer, `invalid CHANNEL_DATA reply (${problems})`, 'connect');
  }
  return {
    headers: Object.freeze({ ...headers }),
    uuid: parsed.data['Unique-ID'],
    callerIdNumber: parsed.data['Caller-Caller-ID-Number'],
    destinationNumber: parsed.data['Caller-Destination-Number'],
    socketMode: parsed.data['Socket-Mode'],
  };
}

/** A channel variable as FreeSWITCH reported it in CHANNEL_DATA (header `variable_NAME`). */
export function channelVariable(data: ChannelData, name: string): string | undefined {
  return data.headers[`variable_${name}`];
}
