import { Socket, connect } from 'node:net';
import { DialplanApplication } from './dialplan-application';
import { EslConnection } from './esl-connection';
import { separateString } from './separate-string';
import type { SimulatedCore } from './simulated-core';

const DEFAULT_PORT = 8084;

/**
 * Connects like switch_socket_connect: an `unreachable` target (dropped SYNs) stalls for the connect
 * timeout and fails; a refused or silent one fails; resolves the connected socket otherwise.
 */
function connectTo(core: SimulatedCore, host: string, port: number): Promise<Socket | undefined> {
  const timeoutMs = core.settings.connectTimeoutMs;
  if (core.settings.unreachable.has(`${host}:${port}`)) {
    return core.scheduler.delay(timeoutMs).then(() => undefined);
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    core.pendingSockets.add(socket);
    let settled = false;
    const settle = (connected: boolean): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      core.pendingSockets.delete(socket);
      if (!connected) socket.destroy();
      resolve(connected ? socket : undefined);
    };
    const cancelTimeout = core.scheduler.schedule(
      () => settle(false),
      timeoutMs,
      () => settle(false)
    );
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('close', () => settle(false));
  });
}

/**
 * `socket HOST[:PORT][|HOST[:PORT]...] [async] [full]` (mod_event_socket's socket_function): tries the
 * targets in order over TCP (a target without a port reuses the previous one, 8084 at first). When none
 * connects the application just returns and the dialplan goes on. Otherwise call control drives the
 * channel: in async mode the channel parks and runs what call control sends until the connection ends
 * (then the dialplan continues); in static mode sendmsg runs inline until the connection ends.
 */
export const socketApplication: DialplanApplication = {
  routingExec: false,
  async run({ session, channel, core, data }) {
    const argv = separateString(data, ' ', 80);
    if (argv.length < 1) {
      core.log('ERR', 'socket: Parse Error!');
      return;
    }
    const flags = argv.slice(1).map((flag) => flag.toLowerCase());
    const async = flags.includes('async');
    const full = flags.includes('full');
    let port = DEFAULT_PORT;
    let socket: Socket | undefined;
    for (const target of argv[0].split('|')) {
      if (target === '') {
        core.log('ERR', 'socket: Missing Host!');
        continue;
      }
      let host = target;
      const colon = target.lastIndexOf(':');
      if (colon >= 0) {
        host = target.slice(0, colon);
        const portText = target.slice(colon + 1);
        const slash = portText.indexOf('/');
        if (slash >= 0) channel.variables.set('socket_path', portText.slice(slash + 1));
        port = parseInt(portText, 10) || 0;
      }
      channel.variables.set('socket_host', host);
      core.log('NOTICE', `Trying host: ${host}:${port}`);
      socket = await connectTo(core, host, port);
      if (socket !== undefined) break;
      core.log('ERR', `Socket Error connecting to ${host}:${port}`);
    }
    if (socket === undefined) return;

    const connection = new EslConnection(socket, core, { session, async, full });
    session.controllers.add(connection);
    connection.start();
    if (!channel.isUp) connection.channelDown();
    if (!async) {
      await connection.finished;
      return;
    }
    await Promise.race([connection.connectedOrFinished, channel.whenHungUp()]);
    await session.park(() => connection.isFinished);
  },
};
