/** The result of something that may fail, as a value (so pure functions can report errors without throwing). */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };
