import {
  CALL_COUNT_LIMIT_REALM,
  DialplanError,
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
  RouteTable,
  assertRoutable,
  decodeRouteTable,
  drainGroup,
  encodeRouteTable,
  restoreGroup,
  setGroupShare,
} from '../dialplan';
import { EslClient, EslConnectOptions, EslNoReplyError } from '../esl';
import { MediaServerStatus, parseLimitUsage, parseRowCount, parseStatus } from './api-replies';

/** The one thing the client needs of an ESL connection. */
export interface EslCommander {
  api(command: string): Promise<string>;
}

export interface ActiveCalls {
  /** Calls on the media server, counted by FreeSWITCH (not legs). */
  readonly total: number;
  /** Calls tagged with each group of the route table (a call that failed over may count in two). */
  readonly byGroup: Readonly<Record<string, number>>;
}

/** The table read back after a write differs from the one written (someone else wrote in between). */
export class RouteVerificationError extends Error {
  constructor(
    readonly written: string,
    readonly readBack: string | undefined,
  ) {
    super(`route table read back differs from the one written (wrote ${written}, read ${readBack ?? 'nothing'}): another writer changed it`);
    this.name = 'RouteVerificationError';
  }
}

/** The media server has no route table (never seeded). */
export class MissingRouteTableError extends Error {
  constructor() {
    super(`no call-control route table on this media server (db ${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY} is empty): set one with 'voiceplane routes set'`);
    this.name = 'MissingRouteTableError';
  }
}

/** The module the call-control dialplan draws each call's number with; loaded by every configuration whose dialplan reads shares. */
const SHARE_DRAW_MODULE = 'mod_expr';

/**
 * The media server cannot apply shares: its FreeSWITCH lacks mod_expr, which the call-control dialplan that reads
 * shares draws with, so its dialplan predates shares. Such a dialplan reads only tables without shares and would
 * reject every new call under a table with one.
 */
export class SharesUnsupportedError extends Error {
  constructor() {
    super(
      `this media server cannot apply shares of new calls: its FreeSWITCH has no ${SHARE_DRAW_MODULE}, so its call-control dialplan predates shares and would reject every new call (replace it with this version's configuration first); the route table is unchanged`,
    );
    this.name = 'SharesUnsupportedError';
  }
}

/** Where the route table lives: the hash is what calls read, the db what survives a restart (see route-table-codec). */
const ROUTE_TABLE_STORES = ['hash', 'db'] as const;
type RouteTableStore = (typeof ROUTE_TABLE_STORES)[number];
const routeTablePath = `${ROUTE_TABLE_DB_REALM}/${ROUTE_TABLE_DB_KEY}`;

/**
 * Operations on one FreeSWITCH over ESL: its call-control route table (read by the dialplan at call
 * time), its calls per group, its status. Every write replaces the table in mod_hash (atomically: what calls read),
 * then in the core db (what a restart reads), and reads both back; it never leaves the table without an active group.
 */
export class MediaServerClient {
  constructor(private readonly esl: EslCommander) {}

  /** Connects and authenticates; close the returned client's connection with `close()`. */
  static async connect(options: EslConnectOptions): Promise<MediaServerClient & { close(): Promise<void> }> {
    const esl = await EslClient.connect(options);
    return Object.assign(new MediaServerClient(esl), { close: () => esl.close() });
  }

  /** The route table calls are routed by, or undefined when none was ever written. */
  async routes(): Promise<RouteTable | undefined> {
    const text = (await this.readRouteText('hash')) ?? (await this.readRouteText('db'));
    return text === undefined ? undefined : decodeRouteTable(text);
  }

  /**
   * Replaces the route table, verified by reading it back; a table with shares only on a media server that applies them.
   * The hash is written first: while the db's delete-then-insert
   * runs, calls still read the hash, and after a restart (empty hash) the db they fall back to is not being written.
   */
  async setRoutes(next: RouteTable): Promise<RouteTable> {
    assertRoutable(next);
    const encoded = encodeRouteTable(next);
    if (next.groups.some((group) => group.share !== undefined)) await this.assertSharesApplicable();
    for (const store of ROUTE_TABLE_STORES) {
      await this.esl.api(`${store} insert/${routeTablePath}/${encoded}`);
    }
    for (const store of ROUTE_TABLE_STORES) {
      const readBack = await this.readRouteText(store);
      if (readBack !== encoded) throw new RouteVerificationError(encoded, readBack);
    }
    return decodeRouteTable(encoded);
  }

  /** Stops new calls to `groupId` (calls in progress continue); refuses to drain the last active group. */
  async drain(groupId: string): Promise<RouteTable> {
    return this.setRoutes(drainGroup(await this.requireRoutes(), groupId));
  }

  /** Lets `groupId` take new calls again. */
  async restore(groupId: string): Promise<RouteTable> {
    return this.setRoutes(restoreGroup(await this.requireRoutes(), groupId));
  }

  /** Gives `groupId` a share of new calls, a percent (`undefined` removes it: the group goes back to its failover place). */
  async setShare(groupId: string, share: number | undefined): Promise<RouteTable> {
    return this.setRoutes(setGroupShare(await this.requireRoutes(), groupId, share));
  }

  /** Calls in progress, counted by FreeSWITCH itself; `groupId` limits `byGroup` to that group. */
  async activeCalls(groupId?: string): Promise<ActiveCalls> {
    const table = await this.routes();
    const groupIds = groupId !== undefined ? [groupId] : (table?.groups ?? []).map((group) => group.id);
    if (groupId !== undefined && table && !table.groups.some((group) => group.id === groupId)) {
      throw new DialplanError(`no group ${JSON.stringify(groupId)} in the route table (groups: ${table.groups.map((group) => group.id).join(', ')})`);
    }
    const byGroup: Record<string, number> = {};
    for (const id of groupIds) {
      byGroup[id] = await this.groupCallCount(id);
    }
    const countCommand = 'show calls count as json';
    return { total: parseRowCount(countCommand, await this.esl.api(countCommand)), byGroup };
  }

  /** Calls tagged with `groupId` by the dialplan's `limit hash` (released at hangup). */
  async groupCallCount(groupId: string): Promise<number> {
    const command = `limit_usage hash ${CALL_COUNT_LIMIT_REALM} ${groupId}`;
    return parseLimitUsage(command, await this.esl.api(command));
  }

  async status(): Promise<MediaServerStatus> {
    return parseStatus(await this.esl.api('status'));
  }

  private async assertSharesApplicable(): Promise<void> {
    const reply = (await this.esl.api(`module_exists ${SHARE_DRAW_MODULE}`)).trim();
    if (reply !== 'true') throw new SharesUnsupportedError();
  }

  private async requireRoutes(): Promise<RouteTable> {
    const table = await this.routes();
    if (!table) throw new MissingRouteTableError();
    return table;
  }

  private async readRouteText(store: RouteTableStore): Promise<string | undefined> {
    try {
      const text = (await this.esl.api(`${store} select/${routeTablePath}`)).trim();
      return text === '' ? undefined : text;
    } catch (error) {
      if (error instanceof EslNoReplyError) return undefined;
      throw error;
    }
  }
}
