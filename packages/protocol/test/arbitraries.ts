/** fast-check arbitraries and helpers shared by the protocol tests. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Action,
  ContentType,
  ERROR_CODES,
  Kind,
  L8Error,
  type Message,
  Mode,
  type NodeId,
  type TxBlock,
  TxState,
  type WireError,
  ZERO_NODE_ID,
} from '../src/index.ts';

/** A node id made from 16 random bytes without the code under test. */
export const nodeIdArb: fc.Arbitrary<NodeId> = fc.oneof(
  { weight: 9, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(hexId) },
  { weight: 1, arbitrary: fc.constant(ZERO_NODE_ID) },
);

/** The canonical string of 16 bytes, by Node's hex encoder. */
export function hexId(bytes: Uint8Array): NodeId {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` as NodeId;
}

/** `s` cut at a code point boundary to at most `max` UTF-8 bytes. */
export function cutUtf8(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Any Unicode text (valid code points only, so it survives UTF-8) up to `maxBytes` bytes. */
export function textArb(maxBytes: number, minLength = 0): fc.Arbitrary<string> {
  return fc
    .string({ unit: 'binary', minLength, maxLength: maxBytes })
    .map((s) => cutUtf8(s, maxBytes))
    .filter((s) => s.length >= minLength);
}

/** Service names: ASCII, Unicode, and names of exactly 255 bytes. */
export const serviceArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  textArb(255),
  fc.string({ unit: 'binary', minLength: 255, maxLength: 255 }).map((s) => cutUtf8(s, 255)),
  fc.constant('x'.repeat(255)),
);

/** W3C traceparents and, since the codec does not parse it, any non-empty text up to 255 bytes. */
export const traceparentArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(255))
    .map(([t, s, f]) => `00-${Buffer.from(t).toString('hex')}-${Buffer.from(s).toString('hex')}-${hex2(f)}`),
  textArb(255, 1),
);

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

const codes = Object.keys(ERROR_CODES);

/** Wire errors with known and unknown codes, Unicode messages and optional JSON data. */
export const wireErrorArb: fc.Arbitrary<WireError> = fc
  .record(
    {
      code: fc.oneof(fc.constantFrom(...codes), fc.string({ maxLength: 30 })),
      message: fc.string({ unit: 'binary', maxLength: 100 }),
      data: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
    },
    { noNullPrototype: true },
  )
  .map(({ code, message, data }) => (data === undefined ? { code, message } : { code, message, data }));

export const txArb: fc.Arbitrary<TxBlock> = fc.record(
  {
    id: nodeIdArb,
    state: fc.constantFrom(...Object.values(TxState)),
    term: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
  },
  { noNullPrototype: true },
);

/** Every field of a message, each over its whole range. */
export const messageArb: fc.Arbitrary<Message> = fc.record(
  {
    kind: fc.constantFrom(...Object.values(Kind)),
    mode: fc.constantFrom(...Object.values(Mode)),
    priority: fc.integer({ min: 0, max: 7 }),
    hops: fc.integer({ min: 0, max: 255 }),
    area: fc.integer({ min: 0, max: 0xffff }),
    sequence: fc.integer({ min: 0, max: 0xffffffff }),
    deadlineMs: fc.integer({ min: 0, max: 0xffffffff }),
    source: nodeIdArb,
    origin: nodeIdArb,
    destination: nodeIdArb,
    contentType: fc.constantFrom(...Object.values(ContentType)),
    action: fc.constantFrom(...Object.values(Action)),
    service: serviceArb,
    traceparent: fc.option(traceparentArb, { nil: undefined }),
    aaa: fc.oneof(fc.constant(''), textArb(300)),
    error: fc.option(wireErrorArb, { nil: undefined }),
    tx: fc.option(txArb, { nil: undefined }),
    idempotencyKey: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 300 }),
  },
  { noNullPrototype: true },
);

/** What decodeMessage must return for `m`: error data goes through JSON. */
export function expectedDecode(m: Message): Message {
  const e = m.error;
  const error =
    e === undefined || e.data === undefined
      ? e
      : { code: e.code, message: e.message, data: JSON.parse(JSON.stringify(e.data)) as unknown };
  const { idempotencyKey, ...rest } = m;
  const keyed = idempotencyKey === undefined ? {} : { idempotencyKey };
  return { ...rest, traceparent: m.traceparent, error, tx: m.tx, ...keyed };
}

/** Asserts a decoded message equals what was encoded, payload compared by bytes. */
export function assertSameMessage(actual: Message, expected: Message): void {
  const { payload: a, ...restA } = actual;
  const { payload: b, ...restB } = expectedDecode(expected);
  assert.deepEqual(restA, restB);
  assert.ok(Buffer.from(a).equals(Buffer.from(b)), 'payload bytes differ');
}

/** Runs `fn`; passes when it returns or throws an L8Error with a listed code (one of `allowed` if given). */
export function onlyL8Errors(fn: () => void, allowed?: readonly string[]): L8Error | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof L8Error)) throw new Error(`threw a non-L8Error: ${String(err)}`, { cause: err });
    assert.ok(Object.hasOwn(ERROR_CODES, err.code), `unknown code ${err.code}`);
    if (allowed !== undefined) assert.ok(allowed.includes(err.code), `unexpected code ${err.code}`);
    return err;
  }
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed, clamped). */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}
