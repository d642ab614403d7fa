import { z } from 'zod';
import { parseIpv4 } from '../net/ipv4';
import { parseOrThrow } from './sip-error';

/** What the SIP cluster of a site needs to know: the site id and where its media servers listen for SIP. */

/** Same shape as topology ids; they travel in dispatcher attributes, so they must stay this plain. */
const ID_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
/** The network plan places at most 50 media servers in a site. */
const MAX_MEDIA_SERVERS_PER_SIP_SITE = 50;

const id = z.string().regex(ID_PATTERN, 'must be lowercase letters, digits and dashes, starting with a letter (at most 31 characters)');

const mediaServerSchema = z.strictObject({
  id,
  /** Private IPv4 address the media server's SIP profile listens on. */
  address: z.string().refine((value) => parseIpv4(value) !== undefined, 'not an IPv4 address'),
  port: z.number().int().min(1).max(65535),
});

const sipSiteSchema = z
  .strictObject({
    id,
    mediaServers: z.array(mediaServerSchema).min(1, 'at least one media server is required').max(MAX_MEDIA_SERVERS_PER_SIP_SITE),
    /**
     * SIP over TLS from the PSTN side (a voice connector with `requireEncryption`), on the TLS port with the node's
     * certificate; SIP in the clear then stays on the VPC side only. @default false
     */
    tls: z.boolean().optional(),
  })
  .superRefine((site, ctx) => {
    const seenIds = new Set<string>();
    const seenTargets = new Set<string>();
    site.mediaServers.forEach((server, index) => {
      if (seenIds.has(server.id)) ctx.addIssue({ code: 'custom', path: ['mediaServers', index, 'id'], message: `duplicate media server id "${server.id}"` });
      const target = `${server.address}:${server.port}`;
      if (seenTargets.has(target)) ctx.addIssue({ code: 'custom', path: ['mediaServers', index, 'address'], message: `${target} is already used by another media server` });
      seenIds.add(server.id);
      seenTargets.add(target);
    });
  });

export type SipSite = z.infer<typeof sipSiteSchema>;
export type SipMediaServer = SipSite['mediaServers'][number];

export function parseSipSite(input: unknown): SipSite {
  return parseOrThrow(sipSiteSchema, input, 'SIP site');
}
