import { SipMediaServer, SipSite } from './sip-site';

/**
 * Kamailio's dispatcher list: one destination set holding the site's media servers, each probed with
 * OPTIONS and tagged with its site and media-server ids so the RPC interface can be asked by id.
 */

export const MEDIA_SERVER_SET_ID = 1;
/** Destination flag: probe with OPTIONS; the destination starts active and is taken out when probes fail. */
const PROBING_FLAG = 8;

function destinationUri(server: Pick<SipMediaServer, 'address' | 'port'>): string {
  return `sip:${server.address}:${server.port}`;
}

function destinationAttributes(siteId: string, mediaServerId: string): string {
  return `site=${siteId};ms=${mediaServerId}`;
}

export function renderDispatcherList(site: SipSite): string {
  const lines = site.mediaServers.map((server) => `${MEDIA_SERVER_SET_ID} ${destinationUri(server)} ${PROBING_FLAG} 0 ${destinationAttributes(site.id, server.id)}`);
  return [`# media servers of site ${site.id}: setid uri flags priority attributes`, ...lines, ''].join('\n');
}

export interface DestinationIds {
  readonly siteId: string;
  readonly mediaServerId: string;
}

/** The ids in a destination's attribute string, or undefined when it was not written by {@link renderDispatcherList}. */
export function parseDestinationAttributes(body: string): DestinationIds | undefined {
  const pairs = new Map(
    body.split(';').flatMap((pair) => {
      const separator = pair.indexOf('=');
      return separator > 0 ? [[pair.slice(0, separator), pair.slice(separator + 1)] as const] : [];
    }),
  );
  const siteId = pairs.get('site');
  const mediaServerId = pairs.get('ms');
  return siteId && mediaServerId ? { siteId, mediaServerId } : undefined;
}
