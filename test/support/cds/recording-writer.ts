import type { LocalCdsClient } from './cds-http';
import type { AcknowledgedWrite } from './convergence-checker';

/** Writes through a site's local API and remembers each acknowledged write for the convergence checker. */
export class RecordingWriter {
  readonly acknowledged: AcknowledgedWrite[] = [];

  async put(site: { id: string; client: LocalCdsClient }, callId: string, name: string, value: unknown): Promise<number> {
    const startedAt = performance.now();
    const written = await site.client.put(callId, name, value);
    this.acknowledged.push({ callId, kind: 'property', key: name, value, ts: written.ts, site: written.site, startedAt, acknowledgedAt: performance.now() });
    return written.ts;
  }

  async log(site: { id: string; client: LocalCdsClient }, callId: string, entry: unknown): Promise<string> {
    const startedAt = performance.now();
    const written = await site.client.log(callId, entry);
    this.acknowledged.push({ callId, kind: 'log', key: written.id, value: entry, ts: written.ts, site: site.id, startedAt, acknowledgedAt: performance.now() });
    return written.id;
  }
}
