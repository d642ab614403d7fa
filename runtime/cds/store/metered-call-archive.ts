import type { Counter } from '../../metrics/metric-registry';
import type { CallArchive } from './call-archive';

export interface ArchiveCounters {
  /** Call records written (a retry that finds the call archived already is not counted again). */
  readonly writes: Counter;
  /** Writes and amendments that failed. */
  readonly failures: Counter;
}

/** The archive, counting the records it writes and the attempts that fail. */
export function meteredCallArchive(archive: CallArchive, counters: ArchiveCounters): CallArchive {
  const counted = async <T>(attempt: Promise<T>): Promise<T> => {
    try {
      return await attempt;
    } catch (error) {
      counters.failures.add();
      throw error;
    }
  };
  return {
    archive: async (...args) => {
      const outcome = await counted(archive.archive(...args));
      if (outcome === 'written') counters.writes.add();
      return outcome;
    },
    amend: (...args) => counted(archive.amend(...args)),
    read: (callId) => archive.read(callId),
  };
}
