import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { EslConnection } from './esl-connection';
import { GOODBYE_MESSAGE, RUDE_REJECTION_FRAME, disconnectNoticeFrame } from './esl-frames';
import type { SimulatedCore } from './simulated-core';

function clientAddress(socket: Socket): string {
  return (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/**
 * The inbound event socket (FreeSWITCH's port 8021): applies the ACL, then hands each client to an
 * EslConnection, which greets it with auth/request.
 */
export class InboundEslServer {
  private readonly server: Server;

  constructor(private readonly core: SimulatedCore) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; resolves once every client socket is gone. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
    });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (!this.core.isRunning) {
      socket.destroy();
      return;
    }
    const acl = this.core.settings.acl;
    const address = clientAddress(socket);
    if (acl !== undefined && !acl.some((prefix) => address.startsWith(prefix))) {
      // listener_run jumps to its cleanup after the rejection, which also says goodbye.
      socket.write(RUDE_REJECTION_FRAME);
      socket.write(disconnectNoticeFrame(GOODBYE_MESSAGE));
      socket.end(() => socket.destroy());
      return;
    }
    new EslConnection(socket, this.core).start();
  }
}
