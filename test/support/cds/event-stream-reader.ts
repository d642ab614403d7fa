import { request, type ClientRequest } from 'http';
import { TEST_LOCAL_AUTHORIZATION } from './cds-http';

export interface ServerSentEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Reads a CDS event stream (`GET /v1/calls/{callId}/events`) into a list, until closed, as a client of the test site. */
export class EventStreamReader {
  readonly events: ServerSentEvent[] = [];
  private buffer = '';

  private constructor(
    private readonly outgoing: ClientRequest,
    private readonly onEvent?: (event: ServerSentEvent) => void,
  ) {}

  /** `onEvent` hears each event as it arrives (it is also kept in `events`). */
  static open(port: number, callId: string, onEvent?: (event: ServerSentEvent) => void): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path: `/v1/calls/${callId}/events`, agent: false, headers: TEST_LOCAL_AUTHORIZATION }, (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`event stream answered ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => reader.consume(chunk));
        response.on('error', () => undefined);
        resolve(reader);
      });
      const reader = new EventStreamReader(outgoing, onEvent);
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  named(event: string): unknown[] {
    return this.events.filter((candidate) => candidate.event === event).map((candidate) => candidate.data);
  }

  close(): void {
    this.outgoing.destroy();
  }

  private consume(chunk: string): void {
    this.buffer += chunk;
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
      if (event !== undefined && data !== undefined) {
        const parsed = { event, data: JSON.parse(data) as unknown };
        this.events.push(parsed);
        this.onEvent?.(parsed);
      }
      boundary = this.buffer.indexOf('\n\n');
    }
  }
}
