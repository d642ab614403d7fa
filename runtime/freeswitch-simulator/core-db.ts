import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const DbFileSchema = z.record(z.string(), z.record(z.string(), z.string()));

/**
 * FreeSWITCH's core database as mod_db uses it (realm/key/value). With a file it is written through on
 * every change and read back on construction, so it survives a simulated restart like the real sqlite db.
 */
export class CoreDb {
  private readonly realms = new Map<string, Map<string, string>>();

  constructor(private readonly file?: string) {
    if (file !== undefined && existsSync(file)) {
      const stored = DbFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      for (const [realm, entries] of Object.entries(stored)) this.realms.set(realm, new Map(Object.entries(entries)));
    }
  }

  select(realm: string, key: string): string | undefined {
    return this.realms.get(realm)?.get(key);
  }

  insert(realm: string, key: string, value: string): void {
    let entries = this.realms.get(realm);
    if (entries === undefined) {
      entries = new Map();
      this.realms.set(realm, entries);
    }
    entries.set(key, value);
    this.persist();
  }

  delete(realm: string, key: string): void {
    const entries = this.realms.get(realm);
    if (entries?.delete(key)) {
      if (entries.size === 0) this.realms.delete(realm);
      this.persist();
    }
  }

  realmNames(): string[] {
    return [...this.realms.keys()];
  }

  keysOf(realm: string): string[] {
    return [...(this.realms.get(realm)?.keys() ?? [])];
  }

  private persist(): void {
    if (this.file === undefined) return;
    const snapshot: Record<string, Record<string, string>> = {};
    for (const [realm, entries] of this.realms) snapshot[realm] = Object.fromEntries(entries);
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(snapshot));
    renameSync(temporary, this.file);
  }
}
