/** A promise for work done in parts, and the callbacks the parts report with. */
export interface PartsSettled {
  /** Resolves once every part is `written`; rejects with the first part that `failed`. */
  readonly settled: Promise<void>;
  readonly written: () => void;
  readonly failed: (error: unknown) => void;
}

/** The settlement of work split into `parts` (at least one) that finish in any order. */
export function partsSettled(parts: number): PartsSettled {
  let remaining = parts;
  let done = false;
  let written: () => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const settled = new Promise<void>((resolve, reject) => {
    written = () => {
      remaining -= 1;
      if (remaining === 0 && !done) {
        done = true;
        resolve();
      }
    };
    failed = (error) => {
      if (done) return;
      done = true;
      reject(error);
    };
  });
  return { settled, written, failed };
}
