import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LinkAddress, LinkTransport, NodeHello } from '@layer8/link';
import { decodeMessage, Kind, toL8Error } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import type { FuzzRandom } from './fuzz-random.ts';
import { handshakeFrame, mutatedHandshake } from './handshake-frames.ts';

/**
 * Link setups with one mutated message (docs/protocol.md §6), from either end: the fuzzer dials a VNet,
 * or answers a VNic's dial as its VNet. Each attempt ends with the target's verdict: `refused:<code>` (a
 * FAIL frame), `closed` (the stream ended without one), `continued` (the next setup message came: the
 * mutation was harmless) or `no-answer` (nothing within the deadline; the fuzzer then closes).
 */

/** One end of a link setup as the fuzzer plays it. */
export interface SetupSpec {
  readonly provider: SecurityProvider;
  readonly hello: NodeHello;
  readonly transport: LinkTransport;
  /** Whether the membership proof is made of handshake frames (a unix socket, or the dev provider); else TLS. */
  readonly proofFrames: boolean;
  /** Fields a challenge carries besides `t`, `nonce` and `nodeId` (provider, certificate). */
  readonly challenge: Readonly<Record<string, unknown>>;
}

/** Which message of the setup an attempt mutates: the proof, the hello, or the transport under them (TLS). */
export type SetupStage = 'proof' | 'hello' | 'transport';

/** Largest frame the verdict reader takes (a setup message is at most 64 KiB). */
const MAX_VERDICT_FRAME = 1 << 20;

function pickStage(rng: FuzzRandom, spec: SetupSpec): SetupStage {
  return rng.pick<SetupStage>([spec.proofFrames ? 'proof' : 'transport', 'hello']);
}

function challengeOf(rng: FuzzRandom, spec: SetupSpec): Record<string, unknown> {
  return { ...spec.challenge, t: 'challenge', nonce: rng.bytes(32).toString('hex'), nodeId: spec.hello.nodeId };
}

/**
 * The first verdict the target gives on `stream`: frames whose body `skip` accepts (the target's own
 * setup messages that cross ours) are read past. Destroys the stream when done.
 */
export function verdict(
  stream: Duplex,
  head: Buffer,
  timeoutMs: number,
  skip: (t: unknown) => boolean,
): Promise<string> {
  return new Promise((resolve) => {
    let buf = head;
    const done = (v: string): void => {
      clearTimeout(timer);
      stream.off('data', onData).off('close', onClose).off('end', onClose);
      stream.on('error', () => undefined);
      stream.destroy();
      resolve(v);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (let v = next(); v !== undefined; v = next()) if (v !== 'skip') return done(v);
    };
    const next = (): string | undefined => {
      if (buf.length < 4) return undefined;
      const len = buf.readUInt32BE(0);
      if (len > MAX_VERDICT_FRAME) return 'garbled';
      if (buf.length < 4 + len) return undefined;
      const frame = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      return judge(frame, skip);
    };
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('no-answer'), timeoutMs);
    stream
      .on('data', onData)
      .on('close', onClose)
      .on('end', onClose)
      .on('error', () => undefined);
    stream.resume();
    if (buf.length > 0) onData(Buffer.alloc(0));
  });
}

/** A FAIL frame is a refusal with its code; a setup message is skipped or means the target went on. */
function judge(frame: Buffer, skip: (t: unknown) => boolean): string {
  try {
    const m = decodeMessage(frame);
    if (m.kind === Kind.FAIL) return `refused:${m.error?.code ?? 'none'}`;
    const body = JSON.parse(Buffer.from(m.payload).toString('utf8')) as { t?: unknown };
    return skip(body.t) ? 'skip' : 'continued';
  } catch {
    return 'garbled';
  }
}

/** The verdict of a setup whose valid part (the proof before a mutated hello) failed: the target refused an honest proof. */
function setupFailed(socket: Socket, e: unknown): string {
  socket.destroy();
  return `setup-failed:${toL8Error(e).code}`;
}

/** Opens a raw socket to `address`. @throws L8_ERR_CONNECT */
export function rawSocket(address: LinkAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = 'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    const timer = setTimeout(() => s.destroy(new Error('connect deadline passed')), timeoutMs);
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(toL8Error(e, 'L8_ERR_CONNECT'));
    });
    s.once('connect', () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
  });
}

/**
 * Dials a VNet at `address` and runs a link setup with one mutated message; resolves with
 * `<stage>:<verdict>` and counts the mutation in `coverage`.
 */
export async function dialMutated(
  rng: FuzzRandom,
  address: LinkAddress,
  spec: SetupSpec,
  timeoutMs: number,
  coverage: Map<string, number>,
): Promise<string> {
  const stage = pickStage(rng, spec);
  const socket = await rawSocket(address, timeoutMs);
  const host = 'path' in address ? {} : { host: address.host };
  const count = (op: string): void =>
    void coverage.set(`handshake.${stage}.${op}`, (coverage.get(`handshake.${stage}.${op}`) ?? 0) + 1);
  if (stage === 'hello') {
    const signal = AbortSignal.timeout(timeoutMs);
    const ctx = { transport: spec.transport, signal, nodeId: spec.hello.nodeId, ...host };
    const secured = await spec.provider.secureClient(socket, ctx).catch((e: unknown) => setupFailed(socket, e));
    if (typeof secured === 'string') return `hello:${secured}`;
    const m = mutatedHandshake(rng, { t: 'hello', ...spec.hello });
    count(m.op);
    secured.stream.write(m.bytes);
    return `hello:${await verdict(secured.stream, secured.head, timeoutMs, () => false)}`;
  }
  const m =
    stage === 'proof'
      ? proofMessages(rng, spec)
      : {
          bytes: rng.pick([
            rng.bytes(1 + rng.below(300)),
            handshakeFrame(Buffer.from(JSON.stringify(challengeOf(rng, spec)))),
          ]),
          op: 'cleartext',
        };
  count(m.op);
  socket.write(m.bytes);
  return `${stage}:${await verdict(socket, Buffer.alloc(0), timeoutMs, (t) => t === 'challenge')}`;
}

/** The dialler's proof messages with one mutated: the challenge, or (after a valid challenge) the proof. */
function proofMessages(rng: FuzzRandom, spec: SetupSpec): { bytes: Buffer; op: string } {
  const challenge = challengeOf(rng, spec);
  if (rng.chance(0.6)) return mutatedHandshake(rng, challenge);
  const proof = mutatedHandshake(rng, { t: 'proof', proof: rng.bytes(64).toString('base64') });
  return {
    bytes: Buffer.concat([handshakeFrame(Buffer.from(JSON.stringify(challenge))), proof.bytes]),
    op: `proof-${proof.op}`,
  };
}

/**
 * Answers a VNic's dial on `socket` as its VNet with one mutated message (its challenge, its hello, or
 * bytes that are no TLS); resolves with `<stage>:<verdict>`.
 */
export async function acceptMutated(
  rng: FuzzRandom,
  socket: Socket,
  spec: SetupSpec,
  timeoutMs: number,
  coverage: Map<string, number>,
): Promise<string> {
  const stage = pickStage(rng, spec);
  const count = (op: string): void =>
    void coverage.set(`handshake.${stage}.${op}`, (coverage.get(`handshake.${stage}.${op}`) ?? 0) + 1);
  if (stage === 'hello') {
    const signal = AbortSignal.timeout(timeoutMs);
    const ctx = { transport: spec.transport, signal, nodeId: spec.hello.nodeId };
    const secured = await spec.provider.secureServer(socket, ctx).catch((e: unknown) => setupFailed(socket, e));
    if (typeof secured === 'string') return `hello:${secured}`;
    const m = mutatedHandshake(rng, { t: 'hello', ...spec.hello });
    count(m.op);
    secured.stream.write(m.bytes);
    return `hello:${await verdict(secured.stream, secured.head, timeoutMs, (t) => t === 'hello')}`;
  }
  const m =
    stage === 'proof'
      ? mutatedHandshake(rng, challengeOf(rng, spec))
      : { bytes: rng.bytes(1 + rng.below(300)), op: 'not-tls' };
  count(m.op);
  socket.write(m.bytes);
  return `${stage}:${await verdict(socket, Buffer.alloc(0), timeoutMs, (t) => t === 'challenge')}`;
}
