import { z } from 'zod';
import { parseCidr, parseIpv4 } from '../net/ipv4';
import { parseOrThrow } from './config-error';
import { ESL_INBOUND_PORT, MEDIA_SERVER_SIP_PORT, RTP_PORTS } from './media-server-ports';

/**
 * Dialplan context of calls arriving from the SIP cluster. A dedicated context: FreeSWITCH uses the first context of
 * a name, so sharing one with anything else would depend on file order.
 */
export const MEDIA_SERVER_DIALPLAN_CONTEXT = 'voiceplane';
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'err'] as const;

const ipv4 = z.string().refine((value) => parseIpv4(value) !== undefined, { error: (issue) => `${JSON.stringify(issue.input)} is not an IPv4 address` });
const cidr = z.string().refine((value) => parseCidr(value) !== undefined, { error: (issue) => `${JSON.stringify(issue.input)} is not an IPv4 CIDR block` });
const port = z.int().min(1).max(65535);

const rtpPortsSchema = z
  .strictObject({ from: port, to: port })
  // FreeSWITCH hands out even ports (RTP) and uses the odd one above for RTCP.
  .refine((range) => range.from % 2 === 0, { error: 'must be even (RTP ports are even, RTCP takes the odd one above)', path: ['from'] })
  .refine((range) => range.to - range.from >= 2, { error: 'must leave room for at least one RTP/RTCP pair above from', path: ['to'] });

export const mediaServerSettingsSchema = z
  .strictObject({
    /** Names the media server in its logs and events (FreeSWITCH's switchname). */
    mediaServerId: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes, starting with a letter'),
    /** The address every listener binds: SIP, RTP and the event socket (the instance's private address; never 0.0.0.0). */
    listenIp: ipv4.refine((value) => value !== '0.0.0.0', 'must be one address, not 0.0.0.0'),
    /** Port of the SIP profile facing the SIP cluster. @default 5060 */
    sipPort: port.default(MEDIA_SERVER_SIP_PORT),
    /** Port of the inbound event socket. @default 8021 */
    eslPort: port.default(ESL_INBOUND_PORT),
    /** RTP port range; the security group opens the same range. @default 16384-32768 */
    rtpPorts: rtpPortsSchema.default({ ...RTP_PORTS }),
    /** Networks admitted by the event socket's ACL (the data center's orchestrator subnets, the site's CDS subnets). */
    eslAllowedCidrs: z.array(cidr).min(1, 'must name at least one network: an event socket open to all is refused'),
    /** Networks admitted by the SIP profile's ACL: where the SIP cluster's nodes run. */
    sipAllowedCidrs: z.array(cidr).min(1, 'must name at least one network: a SIP profile open to all is refused'),
    /** Concurrent channels FreeSWITCH accepts (a bridged call is two). @default 4000 */
    maxSessions: z.int().min(1).max(100_000).default(4000),
    /** New channels per second FreeSWITCH accepts. @default 200 */
    sessionsPerSecond: z.int().min(1).max(10_000).default(200),
    /**
     * Idle CPU percentage below which FreeSWITCH refuses new calls rather than degrade the ones in progress
     * (0 turns the guard off). @default 10
     */
    minIdleCpuPercent: z.number().min(0).max(99).default(10),
    /**
     * SRTP on calls from the SIP cluster (a voice connector that requires encryption): an offer must be RTP/SAVP with
     * an SDES key (`a=crypto`) and is answered the same way; a plain RTP offer is refused (488). Without it calls are
     * plain RTP only and an SRTP-only offer is refused. @default false
     */
    srtp: z.boolean().default(false),
    /** Lowest level written to the log file. @default 'info' */
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .refine((settings) => settings.sipPort !== settings.eslPort, { error: 'must differ from eslPort', path: ['sipPort'] })
  .refine((settings) => [settings.sipPort, settings.eslPort].every((used) => used < settings.rtpPorts.from || used > settings.rtpPorts.to + 1), {
    error: 'sipPort and eslPort must lie outside the RTP range',
    path: ['rtpPorts'],
  });

export type MediaServerSettingsInput = z.input<typeof mediaServerSettingsSchema>;
export type MediaServerSettings = z.output<typeof mediaServerSettingsSchema>;

export function parseMediaServerSettings(input: unknown): MediaServerSettings {
  return parseOrThrow(mediaServerSettingsSchema, input, 'media server settings');
}
