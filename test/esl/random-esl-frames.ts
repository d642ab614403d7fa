// Seeded generator of random and malformed ESL frames, for the fuzzer: the same seed gives the same bytes.

/** mulberry32: a tiny seeded PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function integer(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[integer(random, items.length)];
}

const CONTENT_TYPES = [
  'text/event-plain',
  'text/event-json',
  'text/event-xml',
  'api/response',
  'command/reply',
  'auth/request',
  'log/data',
  'text/disconnect-notice',
  'text/rude-rejection',
  'application/x-unknown',
  '',
];

const EVENT_NAMES = ['CHANNEL_HANGUP', 'BACKGROUND_JOB', 'CHANNEL_DATA', 'CHANNEL_EXECUTE_COMPLETE', 'HEARTBEAT', '', '*', '**'];

const TRICKY_TEXTS = [
  '%',
  '%zz',
  '%E0%A4%A',
  '%FF%FE',
  '+OK',
  '-ERR no reply',
  '\r',
  ': ',
  '\u0000',
  'ü',
  '🙂',
  '<event>',
  '{"a":',
  'null',
  '[]',
  '-1',
  'NaN',
];

function randomText(random: Random, maxLength = 24): string {
  if (random() < 0.4) return pick(random, TRICKY_TEXTS);
  let text = '';
  const length = integer(random, maxLength);
  for (let i = 0; i < length; i += 1) {
    text += random() < 0.9 ? String.fromCharCode(32 + integer(random, 95)) : pick(random, TRICKY_TEXTS);
  }
  return text;
}

function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\n`)
    .join('');
}

function randomHeaders(random: Random): Record<string, string> {
  const headers: Record<string, string> = {};
  const count = integer(random, 5);
  for (let i = 0; i < count; i += 1) headers[pick(random, ['Event-Name', 'Unique-ID', 'Job-UUID', 'Reply-Text', 'Content-Disposition', randomText(random, 8)])] = randomText(random);
  if (random() < 0.6) headers['Event-Name'] = pick(random, EVENT_NAMES);
  return headers;
}

function randomContentLength(random: Random, body: string): string {
  const exact = String(Buffer.byteLength(body));
  return random() < 0.75 ? exact : pick(random, ['0', '-5', 'abc', '', '1e3', String(Buffer.byteLength(body) + 3), '%31']);
}

function randomBody(random: Random, contentType: string): string {
  const roll = random();
  if (contentType === 'text/event-plain' && roll < 0.6) {
    const inner = randomText(random);
    const innerLength = random() < 0.5 ? `Content-Length: ${randomContentLength(random, inner)}\n` : '';
    return `${headerLines(randomHeaders(random))}${innerLength}\n${inner}`;
  }
  if (contentType === 'text/event-json' && roll < 0.6) {
    const value = pick(random, [randomHeaders(random), null, 5, 'text', [1, 2], { 'Content-Length': 'x', _body: 3 }]);
    const json = JSON.stringify(value);
    return random() < 0.8 ? json : json.slice(0, integer(random, json.length + 1));
  }
  if (contentType === 'text/event-xml' && roll < 0.6) {
    const headers = Object.entries(randomHeaders(random))
      .map(([name, value]) => `<${name}>${value}</${name}>`)
      .join('');
    const xml = pick(random, [
      `<event><headers>${headers}</headers></event>`,
      `<event><headers>${headers}<Content-Length>3</Content-Length></headers><body>abc</body></event>`,
      '<event>',
      '<event></event>',
      '',
      '<<<',
    ]);
    return xml;
  }
  return randomText(random, 64);
}

/** One structurally plausible frame with random content: outer headers, maybe a Content-Length and body. */
function randomFrame(random: Random): string {
  const contentType = pick(random, CONTENT_TYPES);
  const outer = { ...(random() < 0.3 ? randomHeaders(random) : {}), 'Content-Type': contentType };
  if (random() < 0.25) return `${headerLines(outer)}\n`;
  const body = randomBody(random, contentType);
  return `${headerLines(outer)}Content-Length: ${randomContentLength(random, body)}\n\n${body}`;
}

/** Random bytes, possibly containing blank lines, for the framing itself. */
function randomBytes(random: Random): string {
  let text = '';
  const length = integer(random, 48);
  for (let i = 0; i < length; i += 1) text += random() < 0.15 ? '\n' : String.fromCharCode(integer(random, 256));
  return text;
}

/** A random or malformed frame: mostly frames of every Content-Type with bad contents, some raw garbage. */
export function randomEslFrame(random: Random): Buffer {
  const roll = random();
  if (roll < 0.8) return Buffer.from(randomFrame(random));
  if (roll < 0.9) return Buffer.from(randomBytes(random), 'latin1');
  const frame = Buffer.from(randomFrame(random));
  return frame.subarray(0, integer(random, frame.length + 1));
}

/** Splits bytes into 1..4 chunks at random points, so frames also arrive across TCP reads. */
export function randomChunks(random: Random, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let rest = bytes;
  for (let pieces = 1 + integer(random, 3); pieces > 0 && rest.length > 1; pieces -= 1) {
    const cut = 1 + integer(random, rest.length - 1);
    chunks.push(rest.subarray(0, cut));
    rest = rest.subarray(cut);
  }
  chunks.push(rest);
  return chunks;
}
