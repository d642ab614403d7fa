import { z } from 'zod';
import { parseOrThrow } from './sip-error';

/**
 * Tunables of a Kamailio node. The defaults are the production values; tests override ports, timers and
 * paths. Detection time of a media server that stops answering is at most
 * probingThreshold x pingIntervalSeconds + inviteTimeoutMs (12 s by default).
 */

const port = z.number().int().min(1).max(65535);
const absolutePath = z.string().regex(/^\/[^\s"]*$/, 'must be an absolute path without spaces or quotes');

const kamailioSettingsSchema = z
  .strictObject({
    /** SIP from the PSTN side (voice connector, carriers), UDP and TCP; advertised with the node's public address. */
    sipPort: port.default(5060),
    /** SIP over TLS from the PSTN side (sites with `tls`), TCP; advertised with the node's public address. */
    tlsPort: port.default(5061),
    /**
     * PEM file with the node's private key and its certificate chain (sites with `tls`): written at boot from the
     * site's secret, readable by Kamailio only.
     */
    tlsCertificatePath: absolutePath.default('/etc/voiceplane/sip/tls/node.pem'),
    /** SIP to and from the media servers, UDP, on the private address only. */
    mediaServerFacingPort: port.default(5070),
    /** JSON-RPC over HTTP (jsonrpcs via xhttp), TCP, on the private address only. */
    rpcPort: port.default(5090),
    /**
     * kamailio.cfg include defining the `Authorization` header an RPC request must carry (see rpc-token.ts): written at
     * boot from the site's secret, readable by Kamailio only. Kamailio does not start without it.
     */
    rpcTokenPath: absolutePath.default('/etc/voiceplane/sip/rpc/token.cfg'),
    /** OPTIONS probe period. */
    pingIntervalSeconds: z.number().int().min(1).max(300).default(5),
    /** Failed probes before a media server stops getting new calls. */
    probingThreshold: z.number().int().min(1).max(10).default(2),
    /** Answered probes before it gets new calls again. */
    inactiveThreshold: z.number().int().min(1).max(10).default(2),
    /** Time a media server has to send any reply to an INVITE (or a probe) before the next one is tried. */
    inviteTimeoutMs: z.number().int().min(100).max(30_000).default(2_000),
    /** Time a call may ring (after a provisional reply) before it is given up. */
    ringTimeoutMs: z.number().int().min(1_000).max(600_000).default(120_000),
    /** Media servers tried for one new call (first choice plus failovers on 5xx or timeout). */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /**
     * SIP requests one address may send to sipPort per second (averaged over 2 s) before its requests are
     * dropped until it slows down. Each call takes 3 to 4 requests; a voice connector sends from few addresses.
     */
    requestsPerSourcePerSecond: z.number().int().min(1).max(10_000).default(300),
    /** SIP worker processes per UDP socket (and TCP workers). */
    children: z.number().int().min(1).max(64).default(4),
    /** Outside /etc/kamailio, whose files the Debian package owns as conffiles. */
    dispatcherListPath: absolutePath.default('/etc/voiceplane/sip/dispatcher.list'),
    runDirectory: absolutePath.default('/run/kamailio'),
  })
  .superRefine((settings, ctx) => {
    const ports = [settings.sipPort, settings.tlsPort, settings.mediaServerFacingPort, settings.rpcPort];
    if (new Set(ports).size !== ports.length) ctx.addIssue({ code: 'custom', message: `sipPort, tlsPort, mediaServerFacingPort and rpcPort must differ, got ${ports.join(', ')}` });
  });

export type KamailioSettings = z.output<typeof kamailioSettingsSchema>;
export type KamailioSettingsInput = z.input<typeof kamailioSettingsSchema>;

/** The production settings with `overrides` applied, validated. */
export function resolveKamailioSettings(overrides: KamailioSettingsInput = {}): KamailioSettings {
  return parseOrThrow(kamailioSettingsSchema, overrides, 'Kamailio settings');
}

/** Path of the JSON-RPC endpoint on {@link KamailioSettings.rpcPort}. */
export const KAMAILIO_RPC_PATH = '/rpc';
