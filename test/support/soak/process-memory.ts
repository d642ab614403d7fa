import { readFileSync } from 'fs';

/** Resident set size of a process (VmRSS in /proc), or undefined once it has gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of named processes at an interval and keeps each one's peak. */
export class MemorySampler {
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly processes: () => ReadonlyMap<string, number | undefined>,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Peak RSS per process name, in bytes. */
  stop(): ReadonlyMap<string, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }

  private sample(): void {
    for (const [name, pid] of this.processes()) {
      const bytes = pid === undefined ? undefined : residentBytes(pid);
      if (bytes !== undefined) this.peaks.set(name, Math.max(bytes, this.peaks.get(name) ?? 0));
    }
  }
}
