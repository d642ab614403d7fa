/** IPv4 address and CIDR arithmetic (pure; the constructs and the runtime share it). */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

/** Dotted decimal without leading zeros: some parsers read `010` as octal, so such an address means different hosts to different readers. */
const OCTET = '(0|[1-9][0-9]{0,2})';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/n`; undefined when malformed or when host bits are set. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  if (rest.length > 0 || prefixText === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const network = parseIpv4(address);
  const prefix = Number(prefixText);
  if (network === undefined || prefix > 32) return undefined;
  if (network % blockSize(prefix) !== 0) return undefined;
  return { network, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const first = mustParse(a);
  const second = mustParse(b);
  const firstEnd = first.network + blockSize(first.prefix);
  const secondEnd = second.network + blockSize(second.prefix);
  return first.network < secondEnd && second.network < firstEnd;
}

/** Like Terraform's cidrsubnet(): the `index`-th block of `prefix + newBits` inside `cidr`. */
export function subnetOf(cidr: string, newBits: number, index: number): string {
  const parent = mustParse(cidr);
  if (index < 0 || index >= 2 ** newBits || parent.prefix + newBits > 32) {
    throw new Error(`subnet ${index} of ${cidr} with ${newBits} new bits does not exist`);
  }
  const prefix = parent.prefix + newBits;
  return formatCidr({ network: parent.network + index * blockSize(prefix), prefix });
}

/** Like Terraform's cidrhost(): the address `hostNumber` inside `cidr`. */
export function hostOf(cidr: string, hostNumber: number): string {
  const parsed = mustParse(cidr);
  if (hostNumber < 0 || hostNumber >= blockSize(parsed.prefix)) {
    throw new Error(`host ${hostNumber} is outside ${cidr}`);
  }
  return formatIpv4(parsed.network + hostNumber);
}

export function hostCount(cidr: string): number {
  return blockSize(mustParse(cidr).prefix);
}

function mustParse(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`"${text}" is not an IPv4 CIDR block`);
  return parsed;
}
