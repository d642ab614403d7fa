import { XMLParser } from 'fast-xml-parser';
import {
  CALL_CONTROL_CONNECTED_VALUE,
  CALL_CONTROL_CONNECTED_VARIABLE,
  CALL_CONTROL_GROUP_VARIABLE,
  CALL_COUNT_LIMIT_REALM,
  type CallControlDialplanOptions,
  type CallControlGroupRoute,
  drainGroup,
  encodeRouteTable,
  parseRouteSpec,
  DRAW_VARIABLE,
  REHOME_TALLY_VARIABLE,
  renderCallControlDialplan,
  ROUTE_TABLE_DB_KEY,
  ROUTE_TABLE_DB_REALM,
  type RouteTable,
  setGroupShare,
  tryOrder,
} from '../../runtime/dialplan';
import { ExpressionEvaluator } from '../../runtime/freeswitch-simulator/expr-function';

/*
 * A deliberately small walker over the rendered XML: it hunts extensions with the conditions' own regexes
 * (FreeSWITCH's break / anti-action / inline / $N rules), expands ${var}, ${hash(select/...)}, ${db(select/...)} and
 * ${expr(...)} (the draw is the setup's; other expressions as mod_expr computes them), and models the socket
 * application's outcomes. It shows which group a new call reaches for a given stored table.
 */

type EndpointBehaviour = 'accept' | 'refuse' | 'crash';

interface DialplanAction {
  application: string;
  data: string;
  inline: boolean;
}

interface DialplanCondition {
  field: string;
  expression: string;
  break: string;
  actions: DialplanAction[];
  antiActions: DialplanAction[];
}

type Dialplan = Map<string, { name: string; conditions: DialplanCondition[] }[]>;

interface CallSetup {
  /** The value `db select/voiceplane/call_control_routes` returns; undefined when the key is absent. */
  storedTable?: string;
  /** The value `hash select/voiceplane/call_control_routes` returns (default: the stored table); undefined after a restart. */
  liveTable?: string;
  /** FreeSWITCH restarted since the table was written: the hash is empty, the db kept the table. */
  restarted?: boolean;
  /** How each endpoint answers a connection; unlisted endpoints refuse. A crashed endpoint refuses afterwards. */
  endpoints?: Record<string, EndpointBehaviour>;
  /** Replaces the stored table when call control crashes (the orchestrator changed routing meanwhile). */
  storedTableAfterCrash?: string;
  /** Replaces the stored table when every endpoint of a failover list refused (routing changed while the call was connecting). */
  storedTableAfterRefusal?: string;
  /** What the call draws (mod_expr's randomize and rand) when it enters the dialplan. @default 0 */
  draw?: number;
}

interface CallOutcome {
  /** How the walk ended: `controlled by HOST:PORT`, `hangup CAUSE`, `parked`, or `fell off the dialplan`. */
  end: string;
  /** The data of every socket application run, i.e. the failover lists tried. */
  socketLists: string[];
  /** Endpoints that took the call, in order. */
  connections: string[];
  /** Groups the call was tagged with (`limit hash ...`). */
  limitTags: string[];
  responses: string[];
  variables: Map<string, string>;
}

const MAX_STACKED_EXTENSIONS = 16;
const DRAW_EXPRESSION = /^randomize\(&(\w+)\);floor\(rand\(&\1\)\*100\)$/;
const ELEMENTS_THAT_REPEAT = ['context', 'extension', 'condition', 'action', 'anti-action'];

function loadDialplan(xml: string): Dialplan {
  type Node = Record<string, string | undefined>;
  type ConditionNode = Node & { action?: Node[]; 'anti-action'?: Node[] };
  type ParsedDocument = { include: { context: { name: string; extension: { name: string; condition: ConditionNode[] }[] }[] } };
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ELEMENTS_THAT_REPEAT.includes(name) });
  const document = parser.parse(xml) as ParsedDocument;
  const toAction = (node: Node): DialplanAction => ({ application: node.application ?? '', data: node.data ?? '', inline: node.inline === 'true' });
  return new Map(
    document.include.context.map((context) => [
      context.name,
      context.extension.map((extension) => ({
        name: extension.name,
        conditions: extension.condition.map((condition) => ({
          field: condition.field ?? '',
          expression: condition.expression ?? '',
          break: condition.break ?? 'on-false',
          actions: (condition.action ?? []).map(toAction),
          antiActions: (condition['anti-action'] ?? []).map(toAction),
        })),
      })),
    ]),
  );
}

class CallWalk {
  private readonly outcome: CallOutcome = { end: '', socketLists: [], connections: [], limitTags: [], responses: [], variables: new Map() };
  private readonly endpoints: Map<string, EndpointBehaviour>;
  private storedTable: string | undefined;
  private liveTable: string | undefined;
  private depth = 0;
  private destination = '';

  constructor(
    private readonly dialplan: Dialplan,
    private readonly setup: CallSetup,
  ) {
    this.endpoints = new Map(Object.entries(setup.endpoints ?? {}));
    this.storedTable = setup.storedTable;
    this.liveTable = setup.restarted ? undefined : (setup.liveTable ?? setup.storedTable);
  }

  /** A route write (as the media-server client makes it) while the call is under way: hash first, then db. */
  private writeTable(table: string): void {
    this.liveTable = table;
    this.storedTable = table;
  }

  place(context: string, destination: string): CallOutcome {
    this.destination = destination;
    const actions = this.hunt(context, destination);
    if (!actions) throw new Error(`no extension in ${context} for ${destination}`);
    this.execute(actions);
    if (!this.outcome.end) this.outcome.end = 'fell off the dialplan';
    return this.outcome;
  }

  private hunt(context: string, destination: string): DialplanAction[] | undefined {
    for (const extension of this.dialplan.get(context) ?? []) {
      const actions: DialplanAction[] = [];
      let proceed = false;
      for (const condition of extension.conditions) {
        const subject = condition.field === 'destination_number' ? destination : this.expand(condition.field);
        const match = new RegExp(condition.expression).exec(subject);
        if (match) {
          proceed = true;
          for (const action of condition.actions) {
            const data = action.data.replace(/\$([1-9])/g, (_, index: string) => match[Number(index)] ?? '');
            if (action.inline) this.run(action.application, this.expand(data));
            else actions.push({ ...action, data });
          }
          if (condition.break === 'on-true' || condition.break === 'always') break;
        } else {
          proceed = condition.antiActions.length > 0;
          actions.push(...condition.antiActions);
          if (condition.break === 'on-false' || condition.break === 'always') break;
        }
      }
      if (proceed) return actions;
    }
    return undefined;
  }

  private execute(actions: DialplanAction[]): void {
    for (const action of actions) {
      if (this.outcome.end) return;
      this.run(action.application, this.expand(action.data));
    }
  }

  private expand(text: string): string {
    const expanded = this.expandVariables(text);
    return expanded.replace(/\$\{expr\((.*)\)\}/g, (_, expression: string) => {
      if (DRAW_EXPRESSION.test(expression)) return String(this.setup.draw ?? 0);
      return new ExpressionEvaluator(() => 0).evaluate(expression);
    });
  }

  private expandVariables(text: string): string {
    return text.replace(/\$\{(db|hash)\(select\/([^/]+)\/([^)]+)\)\}|\$\{([a-z_]+)\}/g, (_, store?: string, realm?: string, key?: string, name?: string) => {
      if (name === 'destination_number') return this.destination;
      if (name) return this.outcome.variables.get(name) ?? '';
      if (realm !== ROUTE_TABLE_DB_REALM || key !== ROUTE_TABLE_DB_KEY) return '';
      return (store === 'hash' ? this.liveTable : this.storedTable) ?? '';
    });
  }

  private run(application: string, data: string): void {
    const variables = this.outcome.variables;
    const [first, ...rest] = data.split(' ');
    switch (application) {
      case 'set': {
        const [name, ...value] = data.split('=');
        if (value.join('=') === '') variables.delete(name);
        else variables.set(name, value.join('='));
        return;
      }
      case 'unset':
        variables.delete(data);
        return;
      case 'log':
        return;
      case 'limit':
        expect([first, rest[0]]).toEqual(['hash', CALL_COUNT_LIMIT_REALM]);
        this.outcome.limitTags.push(rest[1]);
        return;
      case 'socket':
        expect(rest).toEqual(['async', 'full']);
        this.socket(first.split('|'));
        this.outcome.socketLists.push(first);
        return;
      case 'execute_extension': {
        expect(rest[0]).toBe('XML');
        this.depth += 1;
        if (this.depth > MAX_STACKED_EXTENSIONS) throw new Error('FreeSWITCH would refuse: too many stacked extensions');
        this.execute(this.hunt(rest[1], first) ?? []);
        this.depth -= 1;
        return;
      }
      case 'respond':
        this.outcome.responses.push(data);
        return;
      case 'hangup':
        this.outcome.end = `hangup ${data}`;
        return;
      case 'park':
        this.outcome.end = 'parked';
        return;
      default:
        throw new Error(`the walker does not model ${application}`);
    }
  }

  private socket(targets: string[]): void {
    for (const target of targets) {
      const behaviour = this.endpoints.get(target) ?? 'refuse';
      if (behaviour === 'refuse') continue;
      this.outcome.connections.push(target);
      this.outcome.variables.set(CALL_CONTROL_CONNECTED_VARIABLE, CALL_CONTROL_CONNECTED_VALUE);
      if (behaviour === 'accept') {
        this.outcome.end = `controlled by ${target}`;
        return;
      }
      this.endpoints.set(target, 'refuse');
      if (this.setup.storedTableAfterCrash !== undefined) this.writeTable(this.setup.storedTableAfterCrash);
      return;
    }
    if (this.setup.storedTableAfterRefusal !== undefined) this.writeTable(this.setup.storedTableAfterRefusal);
  }
}

function placeCall(setup: CallSetup, options: CallControlDialplanOptions = {}): CallOutcome {
  return new CallWalk(loadDialplan(renderCallControlDialplan(options)), setup).place('public', '+15551230000');
}

const table = (...specs: string[]): RouteTable => ({ groups: specs.map(parseRouteSpec) });
const drained = (group: CallControlGroupRoute): CallControlGroupRoute => ({ ...group, state: 'drained' });
const accepting = (...endpoints: string[]) => Object.fromEntries(endpoints.map((endpoint) => [endpoint, 'accept' as const]));

const BLUE = 'blue=10.0.0.1:8084|10.0.0.2:8084';
const GREEN = 'green=10.0.1.1:8084';
const ALL_ACCEPT = accepting('10.0.0.1:8084', '10.0.0.2:8084', '10.0.1.1:8084');
const REJECTED = 'hangup NORMAL_TEMPORARY_FAILURE';

describe('which call-control group a new call reaches', () => {
  it('goes to the first active group, offering its endpoints as one failover list, and tags the call with it', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)), endpoints: ALL_ACCEPT });
    expect(call.end).toBe('controlled by 10.0.0.1:8084');
    expect(call.socketLists).toEqual(['10.0.0.1:8084|10.0.0.2:8084']);
    expect(call.limitTags).toEqual(['blue']);
    expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe('blue');
  });

  it('routes by the live table (mod_hash) when it differs from the stored one (a write between its two stores)', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)), liveTable: encodeRouteTable(table(GREEN, BLUE)), endpoints: ALL_ACCEPT });
    expect(call.limitTags).toEqual(['green']);
  });

  it('falls back to the stored table (core db) after a restart emptied the live one', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(GREEN, BLUE)), restarted: true, endpoints: ALL_ACCEPT });
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
    expect(call.limitTags).toEqual(['green']);
  });

  it('keeps the group tag across a transfer by call control (limit_ignore_transfer set before the tag)', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)), endpoints: ALL_ACCEPT });
    expect(call.variables.get('limit_ignore_transfer')).toBe('true');
  });

  it('skips a drained group', () => {
    const call = placeCall({ storedTable: encodeRouteTable(drainGroup(table(BLUE, GREEN), 'blue')), endpoints: ALL_ACCEPT });
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
    expect(call.limitTags).toEqual(['green']);
  });

  it('tries the heavier group first', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(`${BLUE}@10`, `${GREEN}@100`)), endpoints: ALL_ACCEPT });
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
  });

  it('reads the table at call time: a new stored table changes where the next call goes', () => {
    const setup = { endpoints: ALL_ACCEPT };
    expect(placeCall({ ...setup, storedTable: encodeRouteTable(table(BLUE, GREEN)) }).limitTags).toEqual(['blue']);
    expect(placeCall({ ...setup, storedTable: encodeRouteTable(table(GREEN, BLUE)) }).limitTags).toEqual(['green']);
  });

  it('moves to the next group only once every endpoint of the earlier one refused (the refused group stays counted)', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)), endpoints: accepting('10.0.1.1:8084') });
    expect(call.socketLists).toEqual(['10.0.0.1:8084|10.0.0.2:8084', '10.0.1.1:8084']);
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
    expect(call.limitTags).toEqual(['blue', 'green']);
    expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe('green');
  });

  it('evaluates every rank against the table read when routing began, though a drain renumbered the stored ranks meanwhile', () => {
    const routes = table(BLUE, GREEN);
    const call = placeCall({
      storedTable: encodeRouteTable(routes),
      storedTableAfterRefusal: encodeRouteTable(drainGroup(routes, 'blue')),
      endpoints: accepting('10.0.1.1:8084'),
    });
    expect(call.socketLists).toEqual(['10.0.0.1:8084|10.0.0.2:8084', '10.0.1.1:8084']);
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
    expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe('green');
  });

  it('offers all four endpoints of a group', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table('blue=a.example:1|b.example:2|c.example:3|d.example:4')), endpoints: accepting('d.example:4') });
    expect(call.socketLists).toEqual(['a.example:1|b.example:2|c.example:3|d.example:4']);
    expect(call.end).toBe('controlled by d.example:4');
  });

  it.each([
    ['every group is drained', encodeRouteTable({ groups: table(BLUE, GREEN).groups.map(drained) })],
    ['no route table is stored', undefined],
    ['the stored value is not a route table', 'garbage'],
  ])('rejects the call explicitly (503, NORMAL_TEMPORARY_FAILURE) when %s', (_, storedTable) => {
    const call = placeCall({ storedTable, endpoints: ALL_ACCEPT });
    expect(call.socketLists).toEqual([]);
    expect(call.responses).toEqual(['503']);
    expect(call.end).toBe(REJECTED);
  });

  it('rejects the call explicitly when every endpoint of every group refuses', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)) });
    expect(call.socketLists).toHaveLength(2);
    expect(call.responses).toEqual(['503']);
    expect(call.end).toBe(REJECTED);
  });

  it('uses the configured rejection', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE)) }, { fallback: { sipResponse: 486 } });
    expect(call.responses).toEqual(['486']);
    // The cause mod_sofia gives a 486 when `respond` hangs the call up itself.
    expect(call.end).toBe('hangup USER_BUSY');
  });

  it('tries no more groups than maxGroups', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(BLUE, GREEN)), endpoints: accepting('10.0.1.1:8084') }, { maxGroups: 1 });
    expect(call.socketLists).toEqual(['10.0.0.1:8084|10.0.0.2:8084']);
    expect(call.end).toBe(REJECTED);
  });

  it('only routes calls whose destination matches the pattern', () => {
    const dialplan = loadDialplan(renderCallControlDialplan({ destinationPattern: '^\\+1[0-9]{10}$' }));
    const setup = { storedTable: encodeRouteTable(table(BLUE)), endpoints: ALL_ACCEPT };
    expect(new CallWalk(dialplan, setup).place('public', '+15551230000').end).toBe('controlled by 10.0.0.1:8084');
    expect(() => new CallWalk(dialplan, setup).place('public', '911')).toThrow('no extension');
  });

  describe('every combination of three groups, states and refusals', () => {
    const groups = table('red=10.0.2.1:8084@5', 'blue=10.0.0.1:8084|10.0.0.2:8084', 'green=10.0.1.1:8084@20').groups;
    const FAILOVER_LIST: Record<string, string> = { red: '10.0.2.1:8084', blue: '10.0.0.1:8084|10.0.0.2:8084', green: '10.0.1.1:8084' };
    /** The order a new call tries the active groups in, per set of drained groups: heaviest first, blue (no weight) last. */
    const TRY_ORDER: Record<string, string[]> = {
      '': ['green', 'red', 'blue'],
      red: ['green', 'blue'],
      blue: ['green', 'red'],
      'red blue': ['green'],
      green: ['red', 'blue'],
      'red green': ['blue'],
      'blue green': ['red'],
      'red blue green': [],
    };
    const combinations = Array.from({ length: 64 }, (_, bits) => {
      const drainedIds = groups.filter((_, index) => bits & (1 << index)).map((group) => group.id);
      const refusing = groups.filter((_, index) => bits & (8 << index)).map((group) => group.id);
      return { drainedIds, refusing, routes: { groups: groups.map((group) => (drainedIds.includes(group.id) ? drained(group) : group)) } };
    });

    it.each(combinations.map((combination) => [combination.drainedIds.join(' ') || 'none', combination.refusing.join(' ') || 'none', combination]))(
      'drained: %s, refusing: %s: tries the active groups in their order until one accepts, else rejects the call',
      (_, __, { drainedIds, refusing, routes }) => {
        const endpoints = Object.fromEntries(
          routes.groups.flatMap((group) => group.endpoints.map((endpoint) => [`${endpoint.host}:${endpoint.port}`, refusing.includes(group.id) ? 'refuse' : 'accept'] as const)),
        );
        const call = placeCall({ storedTable: encodeRouteTable(routes), endpoints });

        const order = TRY_ORDER[drainedIds.join(' ')];
        const landing = order.find((id) => !refusing.includes(id));
        const tried = landing === undefined ? order : order.slice(0, order.indexOf(landing) + 1);
        expect(call.socketLists).toEqual(tried.map((id) => FAILOVER_LIST[id]));
        expect(call.limitTags).toEqual(tried);
        if (landing) {
          expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe(landing);
          expect(call.end).toBe(`controlled by ${FAILOVER_LIST[landing].split('|')[0]}`);
        } else {
          expect(call.responses).toEqual(['503']);
          expect(call.end).toBe(REJECTED);
        }
      },
    );
  });
});

describe('shares of new calls', () => {
  const RED = 'red=10.0.2.1:8084';
  const FAILOVER_LISTS: Record<string, string> = { red: '10.0.2.1:8084', blue: '10.0.0.1:8084|10.0.0.2:8084', green: '10.0.1.1:8084' };
  const withShares = (routes: RouteTable, shares: Record<string, number>) =>
    Object.entries(shares).reduce((current, [id, share]) => setGroupShare(current, id, share), routes);
  const canary = withShares(table(`${BLUE}@100`, GREEN), { green: 10 });

  it('sends a call whose draw falls in a share to that group first, and records the draw on the channel', () => {
    const drawn = placeCall({ storedTable: encodeRouteTable(canary), endpoints: ALL_ACCEPT, draw: 9 });
    expect(drawn.limitTags).toEqual(['green']);
    expect(drawn.variables.get(DRAW_VARIABLE)).toBe('9');
    const other = placeCall({ storedTable: encodeRouteTable(canary), endpoints: ALL_ACCEPT, draw: 10 });
    expect(other.limitTags).toEqual(['blue']);
    expect(other.variables.get(DRAW_VARIABLE)).toBe('10');
  });

  it('still reaches the other group when the drawn one refuses', () => {
    const call = placeCall({ storedTable: encodeRouteTable(canary), endpoints: accepting('10.0.0.1:8084'), draw: 3 });
    expect(call.socketLists).toEqual([FAILOVER_LISTS.green, FAILOVER_LISTS.blue]);
    expect(call.end).toBe('controlled by 10.0.0.1:8084');
    expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe('blue');
  });

  it('applies the shares of the stored table after a restart emptied the live one', () => {
    const call = placeCall({ storedTable: encodeRouteTable(canary), restarted: true, endpoints: ALL_ACCEPT, draw: 0 });
    expect(call.limitTags).toEqual(['green']);
  });

  it('re-homes a call by its draw against the table of that moment', () => {
    const call = placeCall({
      storedTable: encodeRouteTable(canary),
      storedTableAfterCrash: encodeRouteTable(withShares(table(`${BLUE}@100`, GREEN, RED), { red: 10 })),
      endpoints: { '10.0.1.1:8084': 'crash', '10.0.2.1:8084': 'accept', '10.0.0.1:8084': 'accept' },
      draw: 5,
    });
    expect(call.connections).toEqual(['10.0.1.1:8084', '10.0.2.1:8084']);
    expect(call.variables.get(DRAW_VARIABLE)).toBe('5');
  });

  const SHARED_TABLES: Array<[string, RouteTable]> = [
    ['green 10', canary],
    ['blue 0 (rolled back)', withShares(table(`${BLUE}@100`, GREEN), { blue: 0 })],
    ['red 20, green 30', withShares(table(RED, `${BLUE}@50`, `${GREEN}@10`), { red: 20, green: 30 })],
    ['red 1, blue 98, green 1 (all shared, 100)', withShares(table(RED, BLUE, GREEN), { red: 1, blue: 98, green: 1 })],
    ['blue 100, green without (first choice 0)', withShares(table(BLUE, GREEN), { blue: 100 })],
  ];
  const DRAWS = Array.from({ length: 100 }, (_, draw) => draw);

  it.each(SHARED_TABLES)('with %s, tries the groups in tryOrder for every draw 0..99 when all refuse', (_, routes) => {
    for (const draw of DRAWS) {
      const call = placeCall({ storedTable: encodeRouteTable(routes), draw });
      const expected = tryOrder(routes, draw).map((group) => group.id);
      expect({ draw, tags: call.limitTags }).toEqual({ draw, tags: expected });
      expect(call.socketLists).toEqual(expected.map((id) => FAILOVER_LISTS[id]));
      expect(call.end).toBe(REJECTED);
    }
  });
});

describe('when call control goes away while the call is up', () => {
  it('re-homes the live call to the next group instead of hanging it up', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(GREEN, BLUE)), endpoints: { '10.0.1.1:8084': 'crash', '10.0.0.1:8084': 'accept' } });
    expect(call.connections).toEqual(['10.0.1.1:8084', '10.0.0.1:8084']);
    expect(call.end).toBe('controlled by 10.0.0.1:8084');
    expect(call.responses).toEqual([]);
    expect(call.variables.get(REHOME_TALLY_VARIABLE)).toBe('x');
    expect(call.variables.get(CALL_CONTROL_GROUP_VARIABLE)).toBe('blue');
  });

  it('re-homes according to the table stored at that moment', () => {
    const routes = table(BLUE, GREEN);
    const call = placeCall({
      storedTable: encodeRouteTable(routes),
      storedTableAfterCrash: encodeRouteTable(drainGroup(routes, 'blue')),
      endpoints: { '10.0.0.1:8084': 'crash', '10.0.0.2:8084': 'accept', '10.0.1.1:8084': 'accept' },
    });
    expect(call.end).toBe('controlled by 10.0.1.1:8084');
  });

  it('parks the live call when no group takes it back', () => {
    const call = placeCall({ storedTable: encodeRouteTable(table(GREEN)), endpoints: { '10.0.1.1:8084': 'crash' } });
    expect(call.end).toBe('parked');
    expect(call.responses).toEqual([]);
  });

  it('stops re-homing after maxRehomes and parks the call', () => {
    const crashing = 'blue=10.0.0.1:8084|10.0.0.2:8084|10.0.0.3:8084|10.0.0.4:8084';
    const endpoints = Object.fromEntries([1, 2, 3, 4].map((host) => [`10.0.0.${host}:8084`, 'crash' as const]));
    const call = placeCall({ storedTable: encodeRouteTable(table(crashing)), endpoints }, { maxRehomes: 2 });
    expect(call.connections).toEqual(['10.0.0.1:8084', '10.0.0.2:8084', '10.0.0.3:8084']);
    expect(call.end).toBe('parked');
  });

  it('stays within FreeSWITCH nesting limits at the largest re-home budget', () => {
    const specs = ['blue=10.0.0.1:1|10.0.0.2:1|10.0.0.3:1', 'green=10.0.1.1:1|10.0.1.2:1|10.0.1.3:1'];
    const endpoints = Object.fromEntries(['10.0.0', '10.0.1'].flatMap((net) => [1, 2, 3].map((host) => [`${net}.${host}:1`, 'crash' as const])));
    const call = placeCall({ storedTable: encodeRouteTable(table(...specs)), endpoints }, { maxRehomes: 5, maxGroups: 4 });
    expect(call.connections).toHaveLength(6);
    expect(call.end).toBe('parked');
  });
});
