/**
 * A FreeSWITCH event: ordered headers (names keep their case, lookups ignore it) and an optional body.
 * Serialisations are cached because one event is often written to several listeners.
 */
export class FsEvent {
  readonly headers: Array<[string, string]> = [];
  body = '';
  private readonly serialized = new Map<string, string>();

  constructor(readonly name: string) {}

  add(name: string, value: string): this {
    this.headers.push([name, value]);
    return this;
  }

  get(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [header, value] of this.headers) {
      if (header.toLowerCase() === wanted) return value;
    }
    return undefined;
  }

  serializedAs(format: string, serialize: (event: FsEvent) => string): string {
    let text = this.serialized.get(format);
    if (text === undefined) {
      text = serialize(this);
      this.serialized.set(format, text);
    }
    return text;
  }
}
