import type { BackoffPolicy } from '../../esl/backoff';
import { ReconnectingEslClient, type EslEvent } from '../../esl';
import { errorMessage, type Logger } from '../../shared/logger';
import { COLLECTED_EVENTS, planChannelEvent } from './esl-call-events';
import type { LocalCallStore } from '../store/local-call-store';

export interface MediaServerTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

export interface EslEventCollectorOptions {
  readonly site: string;
  readonly calls: Pick<LocalCallStore, 'registerClient' | 'unregisterClient' | 'write' | 'endCall'>;
  readonly mediaServers: readonly MediaServerTarget[];
  readonly backoff?: BackoffPolicy;
  readonly logger: Logger;
}

/**
 * The ESL event collector: subscribes to the site's media servers and turns channel events into property
 * updates (see planChannelEvent). Changes for one call are submitted in event order, and the local store
 * applies them in that order. Events that do not parse are logged and skipped.
 */
export class EslEventCollector {
  private constructor(
    private readonly options: EslEventCollectorOptions,
    private readonly clients: readonly ReconnectingEslClient[],
  ) {}

  static start(options: EslEventCollectorOptions): EslEventCollector {
    const clients = options.mediaServers.map((target) => {
      const client = ReconnectingEslClient.start({ host: target.host, port: target.port, password: target.password, backoff: options.backoff });
      const server = `${target.host}:${target.port}`;
      client.on('connected', () => options.logger.info('collecting events from media server', { mediaServer: server }));
      client.on('disconnected', (reason) => options.logger.warn('media server event socket lost; reconnecting', { mediaServer: server, reason: reason.message }));
      client.subscribe(COLLECTED_EVENTS, { format: 'plain' }).catch((error: unknown) => options.logger.error('event subscription refused', { mediaServer: server, error: errorMessage(error) }));
      return client;
    });
    const collector = new EslEventCollector(options, clients);
    clients.forEach((client) => client.on('event', (event) => collector.collect(event)));
    return collector;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }

  private collect(event: EslEvent): void {
    const planned = planChannelEvent(event, this.options.site);
    if (!planned) return;
    const { logger, calls } = this.options;
    if ('problem' in planned) {
      logger.warn('skipping a channel event that does not parse', { problem: planned.problem });
      return;
    }
    const { plan } = planned;
    if (plan.warning) logger.warn('call id variable unusable', { problem: plan.warning });
    const report = (step: string) => (error: unknown) => logger.warn('could not apply a channel event', { callId: plan.callId, event: event.name, step, error: errorMessage(error) });
    if (plan.register) calls.registerClient(plan.callId, plan.client).catch(report('register'));
    for (const [name, value] of Object.entries(plan.properties)) calls.write(plan.callId, { kind: 'property', name, value }).catch(report(name));
    if (plan.end) calls.endCall(plan.callId).catch(report('end'));
    if (plan.unregister) calls.unregisterClient(plan.callId, plan.client).catch(report('unregister'));
  }
}
