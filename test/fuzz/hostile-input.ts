// A small seeded generator of what a hostile peer sends: deep nesting, huge lines, invalid UTF-8, random bytes,
// control characters and escapes, floods, and any of these split or merged at arbitrary byte boundaries. Seeded,
// so that a failing case names the seed that reproduces it.

export const CASES_PER_PARSER = 1000;

export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32: tiny, fast and good enough to explore input shapes. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(Math.ceil(length / 4) * 4);
    for (let i = 0; i < out.length; i += 4) out.writeUInt32LE(this.int(2 ** 32), i);
    return out.subarray(0, length);
  }
}

/** Runs `body` for CASES_PER_PARSER seeds; a failure names its seed. */
export function forEachCase(body: (random: Random, index: number) => void): void {
  for (let index = 0; index < CASES_PER_PARSER; index++) {
    const random = new Random(0x5eed0000 + index);
    try {
      body(random, index);
    } catch (error) {
      throw new Error(`fuzz case ${index} (seed ${random.seed}) failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

// Terminal escapes a guest has used: OSC 52 clipboard write, OSC 0 title, clear screen, C1 CSI, bidi override.
const NASTY_TEXT = [
  "\u001b]52;c;aGFja2Vk\u0007",
  "\u001b]0;title\u0007",
  "\u001b[2J\u001b[H",
  "\u009b31m",
  "\u202eevil",
  "\ud800",
  "\udfff",
  "\u0000",
  "\r",
  "<b>&amp;</b>",
  '"',
  "\\",
  "é€😀",
];

export function text(random: Random, maxLength = 64): string {
  const parts: string[] = [];
  const count = random.int(maxLength / 4 + 1);
  for (let i = 0; i < count; i++) {
    const kind = random.int(4);
    if (kind === 0) parts.push(random.pick(NASTY_TEXT));
    else if (kind === 1) parts.push(String.fromCharCode(random.int(0x10000)));
    else if (kind === 2) parts.push(String.fromCharCode(random.int(0x100)));
    else parts.push(random.pick(["a", "type", "ready", "return", "error", "id", " ", "{", "}", "[", "]", ":", ","]));
  }
  return parts.join("");
}

/**
 * A JSON-shaped value, sometimes (unless `shallow`) nested far deeper than any recursive walker could follow:
 * such a value has no JSON text, so generators of text ask for shallow ones and write deep text themselves.
 */
export function value(random: Random, depth = 0, shallow = false): unknown {
  // Nesting stops at depth 3 (kinds 5 to 7 nest); only a top-level value may be a deep one (kind 8).
  const kind = random.int(depth >= 3 ? 5 : depth > 0 || shallow ? 8 : 9);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.next() < 0.5;
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, 42]);
    case 3:
    case 4:
      return text(random);
    case 5:
      return Array.from({ length: random.int(5) }, () => value(random, depth + 1));
    case 6:
      return Object.fromEntries(Array.from({ length: random.int(5) }, () => [random.pick(["type", "return", "error", "id", "generation", "class", "desc", "event", "data", "timestamp", "__proto__", text(random, 8)]), value(random, depth + 1)]));
    case 7:
      return plausible(random);
    default:
      return deepValue(random, 1000 + random.int(10_000));
  }
}

/** Nested arrays or objects `depth` levels deep, built without recursion. */
export function deepValue(random: Random, depth: number): unknown {
  let current: unknown = random.pick([1, "x", null, []]);
  const asObject = random.next() < 0.5;
  for (let i = 0; i < depth; i++) current = asObject ? { a: current } : [current];
  return current;
}

/** Near-misses of the real protocols' messages: right keys, wrong types, extra fields. */
function plausible(random: Random): unknown {
  return random.pick([
    { type: "ready", generation: text(random) },
    { type: "ready", generation: random.int(5) },
    { type: "ready", generation: "x".repeat(300) },
    { type: "pong", extra: 1 },
    { return: value(random, 3) },
    { return: random.int(2 ** 31) },
    { error: { class: text(random), desc: text(random) } },
    { error: { class: 1, desc: null } },
    { error: "GenericError" },
    { return: {}, id: String(random.int(5)) },
    { error: { class: "GenericError", desc: text(random) }, id: "1" },
    { event: "STOP", timestamp: { seconds: 1, microseconds: 2 } },
    { event: text(random), data: value(random, 3), timestamp: { seconds: "1", microseconds: 2 } },
    { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } } } },
  ]);
}

/** One line as a guest might send it: JSON (maybe deep or huge), garbage, invalid UTF-8 or random bytes. */
export function hostileLine(random: Random, maxLineBytes: number): Buffer {
  switch (random.int(8)) {
    case 0:
      return Buffer.from(`${"[".repeat(5000)}${"]".repeat(5000)}`);
    case 1:
      return Buffer.from("x".repeat(maxLineBytes + 1 + random.int(maxLineBytes * 2)));
    case 2:
      return Buffer.concat([Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from(JSON.stringify(plausible(random)))]);
    case 3:
      return Buffer.from(random.bytes(random.int(2 * Math.min(maxLineBytes, 8192))).filter((byte) => byte !== 0x0a));
    case 4:
      return Buffer.from(text(random, 200));
    case 5: {
      const depth = 1000 + random.int(maxLineBytes);
      return Buffer.from(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
    }
    default:
      return Buffer.from(JSON.stringify(value(random, 0, true)));
  }
}

/** A stream of lines (sometimes a flood of thousands), cut into chunks at random byte offsets. */
export function hostileStream(random: Random, maxLineBytes: number): Buffer[] {
  const lines: Buffer[] = [];
  const flood = random.next() < 0.05;
  const count = flood ? 2000 + random.int(3000) : 1 + random.int(6);
  const repeated = Buffer.from(JSON.stringify(plausible(random)));
  for (let i = 0; i < count; i++) lines.push(flood ? repeated : hostileLine(random, maxLineBytes));
  const stream = Buffer.concat(lines.flatMap((line) => [line, Buffer.from(random.next() < 0.9 ? "\n" : "\r\n")]));
  return split(random, stream);
}

/** Cuts `bytes` at random offsets: single bytes, mid-character cuts, or everything in one chunk. */
export function split(random: Random, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  // Byte-sized chunks only for small streams: the point is odd boundaries, not millions of calls.
  const style = bytes.length > 20_000 ? 2 : random.int(3);
  while (offset < bytes.length) {
    const size = style === 0 ? bytes.length : style === 1 ? 1 + random.int(7) : 1 + random.int(70_000);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
