export interface LimitResult {
  readonly allowed: boolean;
  readonly usage: number;
}

/**
 * The usage counters behind the `limit` application for one backend (mod_hash's limit_hash): a channel
 * counts once per realm/resource however often it runs `limit`, and is released when it hangs up.
 */
export class LimitCounters {
  private readonly usage = new Map<string, number>();
  private readonly heldByChannel = new Map<string, Set<string>>();

  /** `max` below zero means "count only". */
  increment(channelUuid: string, realm: string, resource: string, max: number): LimitResult {
    const key = `${realm}_${resource}`;
    const held = this.heldByChannel.get(channelUuid);
    const increment = held?.has(key) ? 0 : 1;
    const current = this.usage.get(key) ?? 0;
    if (max >= 0 && current + increment > max) return { allowed: false, usage: current };
    if (increment === 1) {
      this.usage.set(key, current + 1);
      if (held === undefined) this.heldByChannel.set(channelUuid, new Set([key]));
      else held.add(key);
    }
    return { allowed: true, usage: current + increment };
  }

  releaseAll(channelUuid: string): void {
    const held = this.heldByChannel.get(channelUuid);
    if (held === undefined) return;
    this.heldByChannel.delete(channelUuid);
    for (const key of held) {
      const remaining = (this.usage.get(key) ?? 1) - 1;
      if (remaining <= 0) this.usage.delete(key);
      else this.usage.set(key, remaining);
    }
  }

  usageOf(realm: string, resource: string): number {
    return this.usage.get(`${realm}_${resource}`) ?? 0;
  }
}
