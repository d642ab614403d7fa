/** Runs tasks one at a time per call, in submission order; tasks of different calls run concurrently. */
export class CallLanes {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(callId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(callId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(callId, tail);
    void tail.then(() => {
      if (this.tails.get(callId) === tail) this.tails.delete(callId);
    });
    return result;
  }

  /** Whether a task of the call is running or waiting. */
  busy(callId: string): boolean {
    return this.tails.has(callId);
  }

  /** Resolves once every task submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
