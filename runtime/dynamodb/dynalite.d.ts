declare module 'dynalite' {
  import type { Server } from 'http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory without it. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
