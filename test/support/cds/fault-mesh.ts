import { FaultProxy } from './fault-proxy';

/** Sites on loopback, each ordered pair joined by its own fault proxy, so links can be cut one site at a time. */
export class FaultMesh {
  /** `${from}>${to}` -> the relay `from` uses to reach `to`. */
  private readonly links = new Map<string, FaultProxy>();

  static async start(siteIds: readonly string[]): Promise<FaultMesh> {
    const mesh = new FaultMesh();
    for (const from of siteIds) for (const to of siteIds) if (from !== to) mesh.links.set(`${from}>${to}`, await FaultProxy.start());
    return mesh;
  }

  /** Peer id -> URL, as a site's node is configured. */
  peersOf(id: string): Map<string, string> {
    const peers = new Map<string, string>();
    for (const [key, proxy] of this.links) {
      const [from, to] = key.split('>');
      if (from === id) peers.set(to, proxy.url);
    }
    return peers;
  }

  /** The site (re)started on `port`: every link to it relays there. */
  pointAt(id: string, port: number): void {
    for (const [key, proxy] of this.links) if (key.endsWith(`>${id}`)) proxy.target = port;
  }

  /** Cuts every link to and from the site. */
  partition(id: string): void {
    this.linksOf(id).forEach((proxy) => proxy.partition());
  }

  heal(id: string): void {
    this.linksOf(id).forEach((proxy) => proxy.heal());
  }

  async close(): Promise<void> {
    for (const proxy of this.links.values()) await proxy.close();
  }

  private linksOf(id: string): FaultProxy[] {
    return [...this.links].filter(([key]) => key.split('>').includes(id)).map(([, proxy]) => proxy);
  }
}
