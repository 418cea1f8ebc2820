import { ContentType, encodeMessage, Kind, ZERO_NODE_ID } from '@layer8/protocol';
import type { FuzzRandom } from './fuzz-random.ts';
import { mutateJson } from './json-mutations.ts';

/**
 * Mutated link-setup messages (docs/protocol.md §6): the challenge and proof of the membership proof and
 * the hello, as handshake frames (CONTROL, zero source, JSON body) with a broken body, or frames that
 * are no handshake frame at all.
 */

/** The frame-level mutations of a handshake message. */
export const HANDSHAKE_OPS = [
  'json',
  'kind',
  'fail-frame',
  'too-long',
  'too-short',
  'tls-record',
  'oversize',
  'random',
] as const;

/** A handshake mutation's name. */
export type HandshakeOp = (typeof HANDSHAKE_OPS)[number];

/** Codes a forged FAIL frame carries: none that makes a VNic stop for good (a security refusal would). */
const FAIL_CODES = ['L8_ERR_HANDSHAKE', 'L8_ERR_VERSION', 'L8_ERR_TIMEOUT', 'L8_ERR_X', ''];

/** A handshake frame (length-prefixed) with `payload` as its body. */
export function handshakeFrame(payload: Buffer, kind: number = Kind.CONTROL): Buffer {
  return encodeMessage({ kind: kind as Kind, source: ZERO_NODE_ID, contentType: ContentType.CONTROL, payload });
}

/** `body` with one of its string fields made `n` characters long. */
function oversized(body: Readonly<Record<string, unknown>>, n: number): Buffer {
  const key = Object.keys(body).find((k) => k !== 't' && typeof body[k] === 'string') ?? 'alias';
  return Buffer.from(JSON.stringify({ ...body, [key]: 'x'.repeat(n) }), 'utf8');
}

/**
 * A mutated version of the handshake message `body`: its bytes on the wire and the mutation applied
 * (`json/<op>` for a JSON mutation of the body).
 */
export function mutatedHandshake(
  rng: FuzzRandom,
  body: Readonly<Record<string, unknown>>,
): { bytes: Buffer; op: string } {
  const op = rng.pick(HANDSHAKE_OPS);
  const valid = Buffer.from(JSON.stringify(body), 'utf8');
  switch (op) {
    case 'json': {
      const m = mutateJson(rng, body);
      return { bytes: handshakeFrame(m.payload), op: `json/${m.op}` };
    }
    case 'kind':
      return {
        bytes: handshakeFrame(valid, rng.pick([Kind.REQUEST, Kind.REPLY, Kind.NOTIFY, Kind.EVENT, Kind.PROGRESS])),
        op,
      };
    case 'fail-frame': {
      const error = {
        code: rng.pick(FAIL_CODES),
        message: 'x'.repeat(rng.below(300)),
        ...(rng.chance(0.5) ? { data: { v: 1 } } : {}),
      };
      return { bytes: encodeMessage({ kind: Kind.FAIL, source: ZERO_NODE_ID, error }), op };
    }
    case 'too-long':
      return { bytes: lengthOnly(rng.pick([65_537, 0xffff_ffff, 1 << 20]), valid), op };
    case 'too-short':
      return { bytes: lengthOnly(rng.below(67), valid), op };
    case 'tls-record':
      return { bytes: Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), rng.bytes(64)]), op };
    case 'oversize':
      return { bytes: handshakeFrame(oversized(body, rng.pick([256, 60_000]))), op };
    default:
      return { bytes: rng.bytes(1 + rng.below(200)), op };
  }
}

/** A length prefix of `len` followed by the first bytes of a frame: a reader refuses it from the prefix alone. */
function lengthOnly(len: number, body: Buffer): Buffer {
  const out = Buffer.alloc(4 + Math.min(body.length, 32));
  out.writeUInt32BE(len, 0);
  body.copy(out, 4, 0, out.length - 4);
  return out;
}
