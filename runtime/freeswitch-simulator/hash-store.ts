/**
 * mod_hash's in-memory key/value store. Entries are keyed `realm_key`, as in FreeSWITCH, so realm `a_b`
 * key `c` and realm `a` key `b_c` are the same entry.
 */
export class HashStore {
  private readonly entries = new Map<string, string>();

  select(realm: string, key: string): string | undefined {
    return this.entries.get(`${realm}_${key}`);
  }

  insert(realm: string, key: string, value: string): void {
    this.entries.set(`${realm}_${key}`, value);
  }

  /** False when the key already exists. */
  insertIfEmpty(realm: string, key: string, value: string): boolean {
    if (this.entries.has(`${realm}_${key}`)) return false;
    this.entries.set(`${realm}_${key}`, value);
    return true;
  }

  delete(realm: string, key: string): boolean {
    return this.entries.delete(`${realm}_${key}`);
  }
}
