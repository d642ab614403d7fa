import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock, FreeSwitchSimulator } from '../../runtime/freeswitch-simulator/freeswitch-simulator';
import { RawEslClient } from '../support/freeswitch/raw-esl-client';
import { waitFor } from '../support/wait-for';

function dialplan(extensions: string): string {
  return `<include><context name="default">${extensions}</context></include>`;
}

function extension(name: string, body: string, continueAfterMatch = false): string {
  return `<extension name="${name}"${continueAfterMatch ? ' continue="true"' : ''}>${body}</extension>`;
}

/** An extension for destination `number` running `actions`. */
function route(number: string, actions: string): string {
  return extension(number, `<condition field="destination_number" expression="^${number}$">${actions}</condition>`);
}

describe('FreeSWITCH simulator: XML dialplan semantics', () => {
  let simulator: FreeSwitchSimulator;

  async function start(xml: string): Promise<void> {
    simulator = new FreeSwitchSimulator({ dialplanXml: xml });
    await simulator.start();
  }

  afterEach(async () => {
    await simulator.stop();
  });

  it('evaluates conditions and captures while hunting but expands action data when executing', async () => {
    await start(
      dialplan(
        extension(
          'tag',
          `<condition field="destination_number" expression="^(\\d+)$">
             <action application="set" data="captured=$1"/>
             <action application="set" data="seen_while_hunting=[\${marker}]" inline="true"/>
             <action application="set" data="marker=set"/>
             <action application="set" data="seen_when_executing=[\${marker}]"/>
             <action application="set" data="inline_marker=yes" inline="true"/>
           </condition>`,
          true
        ) +
          extension(
            'branch',
            `<condition field="\${marker}" expression="^set$">
               <action application="set" data="branch=marker-seen"/>
               <anti-action application="set" data="branch=marker-not-seen"/>
             </condition>
             <condition field="\${inline_marker}" expression="^yes$">
               <action application="set" data="inline_seen=yes"/>
             </condition>`
          )
      )
    );
    const { variables } = await simulator.placeCall({ destination: '3000' }).outcome;
    expect(variables).toMatchObject({
      captured: '3000',
      seen_while_hunting: '[]',
      seen_when_executing: '[set]',
      branch: 'marker-not-seen',
    });
    // The failed first condition stopped the extension (break="on-false") before the second one.
    expect(variables.inline_seen).toBeUndefined();
  });

  it('honours break modes, absolute conditions and continue="true"', async () => {
    await start(
      dialplan(
        route('9999', '<action application="set" data="wrong=yes"/>') +
          extension(
            'breaks',
            `<condition field="destination_number" expression="^nope$" break="never">
               <anti-action application="set" data="first=anti"/>
             </condition>
             <condition field="caller_id_number" expression="^1001$" break="on-true">
               <action application="set" data="second=matched"/>
             </condition>
             <condition>
               <action application="set" data="third=reached"/>
             </condition>`,
            true
          ) +
          extension('last', `<condition><action application="set" data="last=reached"/></condition>`)
      )
    );
    const outcome = await simulator.placeCall({ destination: '2000', callerIdNumber: '1001' }).outcome;
    expect(outcome.variables).toMatchObject({ first: 'anti', second: 'matched', last: 'reached' });
    expect(outcome.variables.wrong).toBeUndefined();
    expect(outcome.variables.third).toBeUndefined();
    expect(outcome.hangupCause).toBe('NORMAL_CLEARING');
  });

  it('expands channel variables, globals, db lookups and cond expressions', async () => {
    await start(
      dialplan(
        extension(
          'route',
          `<condition field="destination_number" expression="^(\\d+)$">
             <action application="set" data="targets=\${db(select/routes/$1)}"/>
             <action application="set" data="missing=[\${db(select/routes/none)}]"/>
             <action application="set" data="region=\${region}"/>
             <action application="set" data="load=7"/>
             <action application="set" data="size=\${cond(\${load} &gt; 5 ? big : small)}"/>
             <action application="set" data="same=\${cond(abc == abc ? yes : no)}"/>
             <action application="set" data="unknown=[\${no_such_variable}]"/>
           </condition>`
        )
      )
    );
    expect(simulator.api('db insert/routes/3000/10.0.0.1:8084|10.0.0.2:8084')).toBe('+OK');
    expect(simulator.api('global_setvar region=eu-west')).toBe('+OK');
    const { variables } = await simulator.placeCall({ destination: '3000' }).outcome;
    expect(variables).toMatchObject({
      targets: '10.0.0.1:8084|10.0.0.2:8084',
      missing: '[]',
      region: 'eu-west',
      size: 'big',
      same: 'yes',
      unknown: '[]',
    });
  });

  it('runs execute_extension inline and hunts again after a transfer', async () => {
    await start(
      dialplan(
        extension(
          'entry',
          `<condition field="destination_number" expression="^4000$">
             <action application="execute_extension" data="helper XML default"/>
             <action application="set" data="after_helper=yes"/>
             <action application="transfer" data="4001 XML default"/>
             <action application="set" data="not_reached=yes"/>
           </condition>`
        ) +
          route('helper', '<action application="set" data="helper_ran=yes"/>') +
          extension(
            'target',
            `<condition field="destination_number" expression="^4001$">
               <action application="answer"/>
               <action application="hangup" data="USER_BUSY"/>
             </condition>`
          )
      )
    );
    const outcome = await simulator.placeCall({ destination: '4000' }).outcome;
    expect(outcome.variables).toMatchObject({ helper_ran: 'yes', after_helper: 'yes' });
    expect(outcome.variables.not_reached).toBeUndefined();
    expect(outcome).toMatchObject({ hangupCause: 'USER_BUSY', answered: true });
  });

  it('hangs up with the cause FreeSWITCH gives for each way a dialplan ends', async () => {
    await start(
      dialplan(
        route('refuse', '<action application="respond" data="503 Service Unavailable"/>') +
          route(
            'busy',
            '<action application="bridge" data="error/USER_BUSY"/><action application="set" data="after=yes"/>'
          ) +
          extension(
            'onfail',
            `<condition field="destination_number" expression="^onfail$">
               <action application="set" data="continue_on_fail=true"/>
               <action application="bridge" data="error/USER_BUSY"/>
               <action application="hangup" data="CALL_REJECTED"/>
             </condition>`
          ) +
          route('typo', '<action application="answr"/>') +
          route('done', '<action application="answer"/>')
      )
    );
    const causeOf = async (destination: string): Promise<string> =>
      (await simulator.placeCall({ destination }).outcome).hangupCause;
    expect(await causeOf('refuse')).toBe('NORMAL_TEMPORARY_FAILURE');
    expect(await causeOf('busy')).toBe('USER_BUSY');
    expect(await causeOf('onfail')).toBe('CALL_REJECTED');
    expect(await causeOf('typo')).toBe('DESTINATION_OUT_OF_ORDER');
    expect(await causeOf('done')).toBe('NORMAL_CLEARING');
    expect(await causeOf('nowhere')).toBe('NO_ROUTE_DESTINATION');
  });

  it('ends only the bridge, not the call, when the far end hangs up', async () => {
    await start(
      dialplan(
        extension(
          'bridge',
          `<condition field="destination_number" expression="^(\\d+)$">
             <action application="bridge" data="{origination_caller_id_number=999}sofia/gateway/pstn/$1"/>
             <action application="set" data="after_bridge=yes"/>
             <action application="hangup" data="NORMAL_UNSPECIFIED"/>
           </condition>`
        )
      )
    );
    const call = simulator.placeCall({ destination: '15550001' });
    await waitFor(() => simulator.channels().some((channel) => channel.direction === 'outbound'));
    const farEnd = simulator.channels().find((channel) => channel.direction === 'outbound');
    expect(farEnd).toMatchObject({ destination: '15550001', answered: true });
    expect(farEnd?.variables.origination_caller_id_number).toBe('999');
    expect(simulator.api('show calls count as json')).toBe('{"row_count":1,"rows":[]}');

    simulator.killCall(farEnd?.uuid ?? '');
    const outcome = await call.outcome;
    expect(outcome).toMatchObject({ hangupCause: 'NORMAL_UNSPECIFIED', answered: true });
    expect(outcome.variables).toMatchObject({ after_bridge: 'yes', last_bridge_to: farEnd?.uuid });
  });

  it('counts calls with limit, refuses over the maximum and releases at hangup', async () => {
    await start(
      dialplan(
        extension(
          'limited',
          `<condition field="destination_number" expression="^grp-(\\w+)$">
             <action application="limit" data="hash cc $1 2 !USER_BUSY"/>
             <action application="park"/>
           </condition>`
        )
      )
    );
    const first = simulator.placeCall({ destination: 'grp-blue' });
    const second = simulator.placeCall({ destination: 'grp-blue' });
    const third = simulator.placeCall({ destination: 'grp-blue' });
    expect((await third.outcome).hangupCause).toBe('USER_BUSY');
    await waitFor(() => simulator.api('limit_usage hash cc blue') === '2');
    expect(simulator.api('limit_usage hash cc green')).toBe('0');
    simulator.killCall(first.uuid);
    await first.outcome;
    expect(simulator.api('limit_usage hash cc blue')).toBe('1');
    simulator.killCall(second.uuid);
    expect((await second.outcome).variables.limit_usage).toBe('2');
    expect(simulator.api('limit_usage hash cc blue')).toBe('0');
    expect(simulator.stats().hangupCauses).toEqual({ USER_BUSY: 1, NORMAL_CLEARING: 2 });
  });

  it('accepts a full freeswitch/xml document', async () => {
    await start(`<?xml version="1.0"?>
      <document type="freeswitch/xml">
        <section name="dialplan" description="Regex/XML Dialplan">
          <context name="default">
            <extension name="any"><condition><action application="hangup" data="CALL_REJECTED"/></condition></extension>
          </context>
        </section>
      </document>`);
    expect((await simulator.placeCall({ destination: '1' }).outcome).hangupCause).toBe('CALL_REJECTED');
  });
});

describe('FreeSWITCH simulator: reloadxml, fsctl and injected time', () => {
  it('reloads the dialplan file and keeps the old dialplan when the new one does not parse', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fs-sim-dialplan-'));
    const file = join(directory, 'dialplan.xml');
    const routeTo = (cause: string): string =>
      dialplan(extension('all', `<condition><action application="hangup" data="${cause}"/></condition>`));
    writeFileSync(file, routeTo('USER_BUSY'));
    const simulator = new FreeSwitchSimulator({ dialplanFile: file });
    await simulator.start();
    try {
      writeFileSync(file, '<include><context name="default">');
      const failed = simulator.api('reloadxml');
      expect(failed).toMatch(/^\+OK \[.+\]\n$/);
      expect(failed).not.toBe('+OK [Success]\n');
      expect((await simulator.placeCall({ destination: '1' }).outcome).hangupCause).toBe('USER_BUSY');

      writeFileSync(file, routeTo('CALL_REJECTED'));
      expect(simulator.api('reloadxml')).toBe('+OK [Success]\n');
      expect((await simulator.placeCall({ destination: '1' }).outcome).hangupCause).toBe('CALL_REJECTED');
    } finally {
      await simulator.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses new calls while inbound is paused and shuts down elegantly once the last call ends', async () => {
    const simulator = new FreeSwitchSimulator({
      dialplanXml: dialplan(extension('park', '<condition><action application="park"/></condition>')),
    });
    await simulator.start();
    const listener = await RawEslClient.connect(simulator.eslPort);
    await listener.nextFrame();
    await listener.command('auth ClueCon');
    try {
      expect(simulator.api('fsctl pause inbound')).toBe('+OK\n');
      expect(await simulator.placeCall({ destination: '1' }).outcome).toMatchObject({
        rejected: true,
        hangupCause: 'NORMAL_TEMPORARY_FAILURE',
      });
      expect(simulator.api('fsctl resume inbound')).toBe('+OK\n');

      const first = simulator.placeCall({ destination: '1' });
      expect(simulator.api('fsctl shutdown elegant')).toBe('+OK\n');
      const second = simulator.placeCall({ destination: '1' });
      await waitFor(() => simulator.stats().activeCalls === 2);
      simulator.killCall(first.uuid);
      await first.outcome;
      expect(simulator.isRunning).toBe(true);
      simulator.killCall(second.uuid);
      await waitFor(() => !simulator.isRunning, { message: 'the simulator shut down' });
      expect((await listener.nextFrame()).body).toBe('The system is being shut down.\n');
      expect(simulator.stats()).toMatchObject({ callsPlaced: 3, callsCompleted: 2, callsRejected: 1 });
    } finally {
      await listener.close();
      await simulator.stop();
    }
  });

  it('runs a half-hour call in virtual time with an injected clock', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const simulator = new FreeSwitchSimulator({
      clock,
      dialplanXml: dialplan(
        extension('talk', '<condition><action application="answer"/><action application="park"/></condition>')
      ),
    });
    await simulator.start();
    try {
      const call = simulator.placeCall({ destination: '1', durationMs: 30 * 60_000 });
      await waitFor(() => simulator.channels()[0]?.application === 'park');
      clock.advance(30 * 60_000);
      const outcome = await call.outcome;
      expect(outcome).toMatchObject({ hangupCause: 'NORMAL_CLEARING', answered: true, durationMs: 1_800_000 });
      expect(outcome.variables).toMatchObject({ duration: '1800', billsec: '1800' });
    } finally {
      await simulator.stop();
    }
  });
});

/** A clock that only moves when the test says so. */
class ManualClock implements Clock {
  private readonly timers = new Set<{ at: number; callback: () => void }>();

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.current + delayMs, callback };
    this.timers.add(timer);
    return () => {
      this.timers.delete(timer);
    };
  }

  advance(ms: number): void {
    this.current += ms;
    for (const timer of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > this.current || !this.timers.delete(timer)) continue;
      timer.callback();
    }
  }
}
