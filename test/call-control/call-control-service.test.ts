import { get } from 'http';
import { connect } from 'net';
import { CALL_CONTROL_CONNECTED_VALUE, CALL_CONTROL_CONNECTED_VARIABLE } from '../../runtime/dialplan';
import {
  CallControlService,
  type BoundPorts,
  type CallControlServiceOptions,
  type CallFlow,
} from '../../runtime/call-control';
import { commandReply } from '../esl/esl-wire';
import { FakeFreeSwitchChannel } from '../esl/fake-freeswitch-channel';
import { scaledTimers } from '../esl/scaled-timers';
import { waitFor } from '../support/wait-for';
import { CALL_HEADERS, CALL_UUID, FreeSwitchLeg } from './freeswitch-leg';
import { requestJson } from './http-get';
import { recordingLogger } from './recording-logger';

const running: CallControlService[] = [];
const legs: FreeSwitchLeg[] = [];

async function startService(
  extra: Partial<CallControlServiceOptions> = {},
): Promise<{ service: CallControlService; ports: BoundPorts; entries: ReturnType<typeof recordingLogger>['entries']; metricLines: string[] }> {
  let clock = 1_000;
  const { logger, entries } = recordingLogger(() => clock);
  const metricLines: string[] = [];
  const service = new CallControlService({
    group: 'blue',
    version: '2.4.1',
    eslListen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    logger,
    // Every reading advances the clock by 250 ms, so durations are predictable.
    now: () => (clock += 250),
    writeMetrics: (line) => metricLines.push(line),
    ...extra,
  });
  running.push(service);
  return { service, ports: await service.start(), entries, metricLines };
}

async function dial(port: number, headers = CALL_HEADERS): Promise<FreeSwitchLeg> {
  const leg = await FreeSwitchLeg.dial(port, headers);
  legs.push(leg);
  return leg;
}

/** The service's first command on a new call: tell the dialplan a call-control app took it. */
async function expectMarkedConnected(leg: FreeSwitchLeg): Promise<void> {
  await leg.expectExecute('set', `${CALL_CONTROL_CONNECTED_VARIABLE}=${CALL_CONTROL_CONNECTED_VALUE}`);
}

async function activeCalls(httpPort: number): Promise<unknown> {
  return (await requestJson(httpPort, '/calls')).body;
}

function connectionRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

afterEach(async () => {
  legs.splice(0).forEach((leg) => leg.channel.destroy());
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

describe('CallControlService HTTP', () => {
  it('reports health and active calls as JSON', async () => {
    const { ports } = await startService();
    const health = await requestJson(ports.httpPort, '/health');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toMatch(/^application\/json/);
    expect(health.body).toEqual({ status: 'ok', version: '2.4.1', group: 'blue', acceptingCalls: true });
    expect(await requestJson(ports.httpPort, '/calls?verbose=1')).toMatchObject({ status: 200, body: { active: 0 } });
  });

  it('answers unknown paths with 404, other methods with 405, and survives a garbled request', async () => {
    const { ports } = await startService();
    expect(await requestJson(ports.httpPort, '/stats')).toMatchObject({ status: 404, body: { error: 'no such resource: /stats' } });
    const post = await requestJson(ports.httpPort, '/health', 'POST');
    expect(post).toMatchObject({ status: 405, body: { error: 'method POST not allowed on /health' } });
    expect(post.headers.allow).toBe('GET, HEAD');

    const garbled = await new Promise<string>((resolve) => {
      const socket = connect(ports.httpPort, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    expect(garbled).toMatch(/^HTTP\/1\.1 400/);
    expect((await requestJson(ports.httpPort, '/health')).status).toBe(200);
  });
});

describe('CallControlService metrics', () => {
  const emfValues = (line: string) => {
    const document = JSON.parse(line);
    const names = document._aws.CloudWatchMetrics[0].Metrics.map((metric: { Name: string }) => metric.Name);
    return { namespace: document._aws.CloudWatchMetrics[0].Namespace, dimensions: document._aws.CloudWatchMetrics[0].Dimensions, values: Object.fromEntries(names.map((name: string) => [name, document[name]])), group: document.Group };
  };

  it('counts calls for /metrics (Prometheus) and publishes them as CloudWatch EMF every interval and at shutdown, counters as what they added', async () => {
    const timers = scaledTimers(0.001);
    const { service, ports, metricLines } = await startService({ metricsIntervalMs: 60_000, metricsTimers: timers });
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    await waitFor(async () => ((await activeCalls(ports.httpPort)) as { active: number }).active === 1, { message: 'the call held' });

    const { contentType, text } = await new Promise<{ contentType?: string; text: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port: ports.httpPort, path: '/metrics' }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ contentType: response.headers['content-type'], text: body }));
      }).on('error', reject);
    });
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE voiceplane_calls_started_total counter\nvoiceplane_calls_started_total{group="blue"} 1');
    expect(text).toContain('voiceplane_active_calls{group="blue"} 1');

    await waitFor(() => metricLines.length >= 1, { message: 'the first EMF line after one interval' });
    expect(emfValues(metricLines[0])).toEqual({
      namespace: 'voiceplane/call-control',
      dimensions: [['Group']],
      group: 'blue',
      values: { CallsStarted: 1, CallsEnded: 0, CallsDetached: 0, FailedFlows: 0, ActiveCalls: 1 },
    });
    leg.hangUp('NORMAL_CLEARING');
    await waitFor(async () => ((await activeCalls(ports.httpPort)) as { active: number }).active === 0, { message: 'the call gone' });
    await service.shutdown();
    expect(emfValues(metricLines[metricLines.length - 1]).values).toEqual({ CallsStarted: 0, CallsEnded: 1, CallsDetached: 0, FailedFlows: 0, ActiveCalls: 0 });
  });
});

describe('CallControlService calls', () => {
  it('marks the call connected first, answers and holds it (no park: FreeSWITCH refuses one under socket control), counts it, and forgets it when the caller hangs up', async () => {
    const { ports, entries } = await startService();
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    await waitFor(async () => ((await activeCalls(ports.httpPort)) as { active: number }).active === 1, { message: '/calls to show the call' });
    expect(leg.channel.isClosed).toBe(false);

    leg.hangUp('NORMAL_CLEARING');
    await waitFor(async () => ((await activeCalls(ports.httpPort)) as { active: number }).active === 0, { message: '/calls to drop the call' });
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'call started', group: 'blue', version: '2.4.1', uuid: CALL_UUID, caller: '+15557654321', destination: '2000' }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: 'call ended', uuid: CALL_UUID, durationMs: 250, hangupCause: 'NORMAL_CLEARING', ts: expect.any(String) }),
    );
  });

  it('bridges to vp_bridge_target, and keeps the call when the caller hangs up mid-bridge without reporting a failure', async () => {
    const { ports, entries } = await startService();
    const leg = await dial(ports.eslPort, { ...CALL_HEADERS, variable_vp_bridge_target: 'user/1000@example.com' });
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    // Should call control go away mid-bridge, FreeSWITCH ends the caller's leg with the far end's.
    await leg.expectExecute('set', 'hangup_after_bridge=true');
    await leg.expectExecute('bridge', 'user/1000@example.com', { complete: false });
    leg.hangUp('NORMAL_CLEARING');
    await waitFor(() => entries.some((entry) => entry.msg === 'call ended'), { message: 'the call to end' });
    expect(entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('holds the call unbridged when vp_bridge_target is not a usable dial string', async () => {
    const { ports, entries } = await startService();
    const leg = await dial(ports.eslPort, { ...CALL_HEADERS, variable_vp_bridge_target: '   ' });
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    await waitFor(async () => ((await activeCalls(ports.httpPort)) as { active: number }).active === 1, { message: '/calls to show the held call' });
    expect(leg.channel.isClosed).toBe(false);
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'warn', uuid: CALL_UUID, problem: 'channel variable vp_bridge_target is empty' }),
    );
  });

  it('detaches the call (exit, no hangup) when the flow throws', async () => {
    const failingFlow: CallFlow = async (call) => {
      await call.answer();
      throw new Error('no route for this customer');
    };
    const { ports, entries } = await startService({ flow: failingFlow });
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    await leg.expectDetach();
    await waitFor(() => entries.some((entry) => entry.msg === 'call detached'), { message: 'the detach to be logged' });
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'error', uuid: CALL_UUID, msg: 'call flow failed, detaching the call', error: 'no route for this customer' }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'call detached', reason: 'flow-failed' }));
    expect(await activeCalls(ports.httpPort)).toEqual({ active: 0 });
  });

  it('lets a flow hang up with a cause of its choosing', async () => {
    const { ports, entries } = await startService({ flow: (call) => call.hangup('CALL_REJECTED') });
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    const hangup = await leg.channel.nextCommand();
    expect(hangup.headers).toEqual({ 'call-command': 'hangup', 'hangup-cause': 'CALL_REJECTED' });
    leg.channel.write(commandReply('+OK'));
    leg.hangUp('CALL_REJECTED');
    await waitFor(() => entries.some((entry) => entry.msg === 'call ended'), { message: 'the call to end' });
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'call ended', hangupCause: 'CALL_REJECTED' }));
  });
});

describe('CallControlService shutdown', () => {
  it('drains: reports draining, refuses new connections, serves the active call until the caller hangs up', async () => {
    const { service, ports, entries } = await startService();
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');

    let summary: unknown;
    const shutdown = service.shutdown().then((result) => (summary = result));
    expect(await connectionRefused(ports.eslPort)).toBe('ECONNREFUSED');
    const health = await requestJson(ports.httpPort, '/health');
    expect(health).toMatchObject({ status: 503, body: { status: 'draining', version: '2.4.1', group: 'blue', acceptingCalls: false } });
    expect(await activeCalls(ports.httpPort)).toEqual({ active: 1 });
    expect(summary).toBeUndefined();
    expect(leg.channel.isClosed).toBe(false);

    leg.hangUp();
    await shutdown;
    expect(summary).toEqual({ drained: 1, detachedAtDeadline: 0 });
    expect(await connectionRefused(ports.httpPort)).toBe('ECONNREFUSED');
    expect(entries.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining(['shutdown started, no longer accepting calls', 'draining', 'shutdown complete']),
    );
  });

  it('detaches the calls still up when the default grace period (110 s) runs out, without hanging them up', async () => {
    const timers = scaledTimers(0.001);
    const { service, ports, entries } = await startService({ timers });
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');

    const shutdown = service.shutdown();
    await leg.expectDetach();
    await expect(shutdown).resolves.toEqual({ drained: 0, detachedAtDeadline: 1 });
    expect(timers.requestedMs).toEqual([110_000]);
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'call detached', uuid: CALL_UUID, reason: 'shutdown-deadline' }));
  });

  it('stop detaches at once and a later shutdown reports the same summary', async () => {
    const { service, ports } = await startService();
    const leg = await dial(ports.eslPort);
    await expectMarkedConnected(leg);
    await leg.expectExecute('answer');
    const stopped = service.stop();
    await leg.expectDetach();
    await stopped;
    await expect(service.shutdown()).resolves.toEqual({ drained: 0, detachedAtDeadline: 1 });
    await expect(FakeFreeSwitchChannel.connect(ports.eslPort)).rejects.toThrow(/ECONNREFUSED/);
  });
});
