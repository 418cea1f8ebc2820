import {
  Action,
  type ControlBody,
  encodeControl,
  encodeMessage,
  Kind,
  type MessageInit,
  Mode,
  type NodeId,
  TxState,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import type { FuzzRandom } from './fuzz-random.ts';

/** What one fuzzing link poses as: a local VNic or a peer VNet dialling a VNet, or the VNet of a VNic. */
export type Pose = 'vnic' | 'peer' | 'vnet';

/** What the frames of one link are built from: who sends them and whom they may name. */
export interface FuzzContext {
  /** The node id the link proved (the source of every valid frame). */
  readonly self: NodeId;
  readonly pose: Pose;
  /** The target's node id (the VNet, or the VNic). */
  readonly target: NodeId;
  /** Other nodes worth addressing (the control pair, the VNic under test). */
  readonly nodes: readonly NodeId[];
  /** (service, area) pairs worth addressing. */
  readonly services: readonly { readonly service: string; readonly area: number }[];
}

/** Error codes a template's error blocks and `close` messages carry (none that makes a VNic stop for good). */
const CODES = ['L8_ERR_TIMEOUT', 'L8_ERR_HANDLER', 'L8_ERR_UNREACHABLE', 'L8_ERR_MALFORMED_FRAME', 'L8_ERR_X_UNKNOWN'];

const DATA_KINDS = [Kind.REQUEST, Kind.REPLY, Kind.FAIL, Kind.NOTIFY, Kind.EVENT, Kind.PROGRESS] as const;
const ACTIONS = Object.values(Action);

/** A destination: the zero id (the mode picks), the target, a known node, this link's own id or a stranger. */
function destination(rng: FuzzRandom, ctx: FuzzContext): NodeId {
  switch (rng.below(5)) {
    case 0:
      return ZERO_NODE_ID;
    case 1:
      return ctx.target;
    case 2:
      return ctx.nodes.length > 0 ? rng.pick(ctx.nodes) : ctx.target;
    case 3:
      return ctx.self;
    default:
      return rng.nodeId();
  }
}

function serviceOf(rng: FuzzRandom, ctx: FuzzContext): { service: string; area: number } {
  if (ctx.services.length > 0 && rng.chance(0.7)) return rng.pick(ctx.services);
  return { service: rng.chance(0.2) ? 'ü'.repeat(rng.below(128)) : `svc-${rng.below(1000)}`, area: rng.below(65536) };
}

/** A payload: mostly empty or small, rarely large (a large one repeats a random block: cheap to make). */
function payloadOf(rng: FuzzRandom): Buffer {
  if (rng.chance(0.002)) return Buffer.alloc(rng.int(60_000, 300_000), rng.bytes(64));
  return rng.chance(0.3) ? Buffer.alloc(0) : rng.bytes(rng.below(256));
}

/**
 * The optional parts of a data frame: trace, identity, error block, transaction block, idempotency key;
 * each present with probability `p` (a fail always has its error block).
 */
function extras(rng: FuzzRandom, kind: number, p: number): Partial<MessageInit> {
  const out: { -readonly [K in keyof MessageInit]?: MessageInit[K] } = {};
  if (rng.chance(p)) out.traceparent = `00-${rng.bytes(16).toString('hex')}-${rng.bytes(8).toString('hex')}-01`;
  if (rng.chance(p))
    out.aaa = rng.chance(0.5) ? `user-${rng.below(100)}` : rng.bytes(rng.below(300)).toString('base64');
  if (kind === Kind.FAIL || rng.chance(p / 2)) {
    const data = rng.chance(0.5) ? undefined : { n: rng.below(1000), s: 'x'.repeat(rng.below(40)) };
    out.error = {
      code: rng.pick(CODES),
      message: 'm'.repeat(rng.below(200)),
      ...(data === undefined ? {} : { data }),
      ...(rng.chance(0.3) ? { retryable: rng.chance(0.5) } : {}),
    };
  }
  if (rng.chance(p / 2))
    out.tx = { id: rng.nodeId(), state: rng.below(TxState.ABORTED + 1) as TxState, term: rng.below(2 ** 31) };
  if (rng.chance(p / 2)) out.idempotencyKey = `key-${rng.below(1e6)}`;
  return out;
}

/**
 * A valid data frame (length-prefixed) of any kind but CONTROL, from `ctx.self`. A `rich` frame has its
 * optional blocks three times as often, so a field mutation finds the field it aims at.
 */
export function dataFrame(rng: FuzzRandom, ctx: FuzzContext, rich = false): Buffer {
  const kind = rng.pick(DATA_KINDS);
  const dest = destination(rng, ctx);
  const { service, area } = serviceOf(rng, ctx);
  return encodeMessage({
    kind,
    source: ctx.self,
    origin: ctx.pose === 'vnic' ? ctx.target : ctx.self,
    destination: dest,
    mode: (dest === ZERO_NODE_ID
      ? rng.int(Mode.MULTICAST, Mode.LEADER)
      : rng.pick([Mode.UNICAST, rng.below(6)])) as Mode,
    priority: rng.below(8),
    hops: rng.pick([0, 1, 4, 255, rng.below(256)]),
    area,
    sequence: rng.u32() >>> 1,
    deadlineMs: rng.pick([0, 1, 1000, 0xffffffff, rng.u32()]),
    action: rng.pick(ACTIONS),
    service,
    ...extras(rng, kind, rich ? 0.9 : 0.3),
    payload: rich && rng.chance(0.9) ? rng.bytes(1 + rng.below(64)) : payloadOf(rng),
  });
}

/** Load figures as a VNic sends them (`stats`). */
function stats(rng: FuzzRandom): Record<string, number> {
  const f = ['framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'cpuUs', 'rssBytes', 'heapUsedBytes', 'eventLoopDelayMs'];
  return Object.fromEntries(f.map((k) => [k, rng.below(1e9)]));
}

/** A time (epoch ms) records are dated after: late 2023. */
const EPOCH = 1_700_000_000_000;

/** A health record of `vnet`'s slice (a VNic attached to it, or the VNet itself). */
function record(rng: FuzzRandom, id: NodeId, vnet: NodeId): Record<string, unknown> {
  // times from the seed, not the clock, so that records replay with their frames
  const now = EPOCH + rng.below(1e9);
  return {
    id,
    vnet,
    alias: `fuzz-${rng.below(1000)}`,
    role: id === vnet ? 'vnet' : 'vnic',
    services: [{ service: `svc-${rng.below(100)}`, area: rng.below(4) }],
    status: rng.chance(0.8) ? 'up' : 'unreachable',
    startedAt: now - rng.below(1e6),
    updatedAt: now,
    ...(rng.chance(0.3) ? { stats: stats(rng) } : {}),
  };
}

/** A health delta of `vnet`'s slice. */
export function healthDelta(rng: FuzzRandom, vnet: NodeId, seq: number, full: boolean): Record<string, unknown> {
  const upsert = [record(rng, vnet, vnet)];
  for (let i = rng.below(4); i > 0; i--) upsert.push(record(rng, rng.nodeId(), vnet));
  return { vnet, seq, full, upsert, remove: rng.chance(0.3) ? [rng.nodeId()] : [] };
}

/** The control messages a link of `ctx.pose` may send (docs/protocol.md §6.3), as valid bodies. */
export function controlBodyOf(rng: FuzzRandom, ctx: FuzzContext): ControlBody {
  const close = { t: 'close', error: { code: rng.pick(CODES), message: 'fuzz' } };
  if (ctx.pose === 'vnic') {
    const services = [
      { service: 'chaos.fuzz', area: 0 },
      ...(rng.chance(0.5) ? [{ service: `svc-${rng.below(9)}`, area: 1 }] : []),
    ];
    return rng.pick<ControlBody>([
      { t: 'hb' },
      { t: 'resync' },
      { t: 'bye' },
      { t: 'services', services },
      { t: 'stats', stats: stats(rng) },
    ]);
  }
  if (ctx.pose === 'peer') {
    const delta = healthDelta(rng, ctx.self, rng.below(1000), rng.chance(0.5));
    return rng.pick<ControlBody>([{ t: 'hb' }, { t: 'resync' }, { t: 'health', delta }, close]);
  }
  const deltas = [healthDelta(rng, ctx.self, rng.below(1000), rng.chance(0.5))];
  return rng.pick<ControlBody>([{ t: 'hb' }, { t: 'health', deltas }, { t: 'drop', vnet: rng.nodeId() }, close]);
}

/** A valid control frame (length-prefixed) from `ctx.self` with `body`. */
export function controlFrame(ctx: FuzzContext, body: ControlBody): Buffer {
  return encodeControl(ctx.self, body);
}

/** A control frame whose payload is `payload` exactly (JSON or not), as {@link controlFrame} lays it out. */
export function rawControlFrame(source: NodeId, payload: Buffer): Buffer {
  return encodeMessage({ kind: Kind.CONTROL, source, priority: 0, contentType: 4, payload });
}
