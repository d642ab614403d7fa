import { OutboundTestServer } from './freeswitch/outbound-test-server';
import type { RawEslClient } from './freeswitch/raw-esl-client';

/** What one call showed the endpoint of a group when it connected. */
export interface ConnectedCall {
  readonly group: string;
  /** The call's draw as the dialplan recorded it (channel variable). */
  readonly draw: string | undefined;
}

/**
 * A call-control stand-in for counting where calls land: every endpoint of the returned set takes the `connect`,
 * notes the call (its Unique-ID, the group the endpoint plays, the call's draw) and hangs the call up, so each call
 * connects to exactly one group, the first in its try order that accepts. Works with the real FreeSWITCH and the
 * simulator alike (outbound ESL).
 */
export class FirstChoiceEndpoints {
  /** Calls by the media server leg's Unique-ID, in arrival order. */
  readonly calls = new Map<string, ConnectedCall>();
  private readonly servers: OutboundTestServer[] = [];

  /** A listening endpoint playing `group`. */
  async endpoint(group: string): Promise<number> {
    const server = await OutboundTestServer.start((client) => void this.take(group, client));
    this.servers.push(server);
    return server.port;
  }

  /** How many calls each group took. */
  countsByGroup(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { group } of this.calls.values()) counts.set(group, (counts.get(group) ?? 0) + 1);
    return counts;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }

  private async take(group: string, client: RawEslClient): Promise<void> {
    try {
      const channelData = await client.command('connect', {}, 10_000);
      const uuid = channelData.header('Unique-ID');
      if (uuid !== undefined && !this.calls.has(uuid)) {
        this.calls.set(uuid, { group, draw: channelData.header('variable_vp_cc_draw') });
      }
      await client.command('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' }, 10_000);
    } catch {
      // The call went away first: it is not counted.
    } finally {
      await client.close();
    }
  }
}
