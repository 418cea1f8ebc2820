import { toL8Error } from '@layer8/protocol';
import type { FuzzEndpoint } from './endpoints.ts';
import { FuzzLink, PROBE_BASE } from './fuzz-link.ts';
import { FuzzRandom } from './fuzz-random.ts';
import { FrameMutator } from './mutator.ts';
import { bump } from './target-config.ts';

/** Options of one fuzzing channel. */
export interface ChannelOptions {
  /** Fuzz frames to send. */
  readonly frames: number;
  readonly seed: number;
  /** Frames per batch at most (one write each). */
  readonly batch: number;
  /** Share of frames that end a link (mutator.ts). */
  readonly endRate: number;
  /** A mutated link setup before every this many links (0: none); a VNic dials only when it has no link. */
  readonly setupEvery: number;
  /** How long the target may take to accept a link or answer a probe on a fresh link before it counts as a hang, ms. */
  readonly hangMs: number;
  /** How long a probe after a batch may wait before the fuzzer gives the link up (not a hang), ms. */
  readonly probeMs: number;
  /** Checked between batches: true ends the channel early (the target crashed, the run was stopped). */
  readonly stopped: () => boolean;
}

/** What one channel did, and what the target did to it. */
export interface ChannelTally {
  readonly name: string;
  framesSent: number;
  bytesSent: number;
  batches: number;
  /** Links opened (the first and every redial). */
  links: number;
  /** Links the target closed after a batch (most mutations that end a link). */
  cutByTarget: number;
  /** Links the fuzzer ended itself after a frame that loses the frame boundaries. */
  endedByFuzzer: number;
  /** Probes sent: requests the target answers (on a VNet, for a node nobody holds: refused on purpose). */
  probes: number;
  /** Probes after a batch that got no answer in time (the target waits for the rest of a frame). */
  probeTimeouts: number;
  /** Link setups that failed, by code. */
  openFailures: Record<string, number>;
  /** Links the target did not accept, serve (a first probe) or read (a full queue) within the hang deadline. */
  hangs: number;
  /** Hangs since the last link that served; the channel gives up at 3. */
  hangsInARow: number;
  /** Mutated link setups by `<stage>:<verdict>`. */
  setups: Record<string, number>;
  /** Codes of the `close` messages the target sent before closing a link. */
  closeReasons: Record<string, number>;
  /** Codes of the FAIL frames the target answered fuzz requests with. */
  failCodes: Record<string, number>;
}

/** A channel's tally with the mutator's coverage (`mutation`, `field.<name>`, `control.<t>`, `handshake.…` keys). */
export type ChannelResult = ChannelTally & { readonly coverage: ReadonlyMap<string, number> };

/** Pause after a failed link setup before the next, ms. */
const RETRY_MS = 10;

/** Hangs in a row after which a channel gives up: the target no longer serves this way in. */
const MAX_HANGS_IN_A_ROW = 3;

/**
 * Runs one fuzzing channel against `ep`: opens a link, proves the target serves it (a probe), sends
 * batches of mutated frames each followed by a probe, and after the link ends (cut by the target, or by
 * the fuzzer after a desync) opens the next; before every `setupEvery`-th link it tries one mutated link
 * setup. Returns the tally; never throws.
 */
export async function runChannel(ep: FuzzEndpoint, o: ChannelOptions): Promise<ChannelResult> {
  const t = newTally(ep.name);
  const mutator = new FrameMutator({
    seed: o.seed,
    ctx: ep.ctx,
    maxFrame: ep.maxFrame,
    endRate: o.endRate,
    badControlCuts: ep.badControlCuts,
  });
  const setupRng = new FuzzRandom((o.seed ^ 0x5e75e7) >>> 0);
  let seq = PROBE_BASE;
  let link: FuzzLink | undefined;
  let attempts = 0;
  while (t.framesSent < o.frames && !o.stopped() && !gaveUp(t)) {
    if (link === undefined && o.setupEvery > 0 && attempts++ % o.setupEvery === o.setupEvery - 1) {
      await mutatedSetup(ep, setupRng, o, t, mutator.coverage);
    }
    link ??= await opened(ep, o, t, seq++);
    if (link === undefined) continue;
    link = await fuzzBatch(link, mutator.batch(Math.min(o.batch, o.frames - t.framesSent)), ep, o, t, seq++);
  }
  link?.close();
  return { ...t, coverage: mutator.coverage };
}

/** Whether the last {@link MAX_HANGS_IN_A_ROW} attempts to open a link all hung. */
function gaveUp(t: ChannelTally): boolean {
  return t.hangsInARow >= MAX_HANGS_IN_A_ROW;
}

function newTally(name: string): ChannelTally {
  return {
    name,
    framesSent: 0,
    bytesSent: 0,
    batches: 0,
    links: 0,
    cutByTarget: 0,
    endedByFuzzer: 0,
    probes: 0,
    probeTimeouts: 0,
    openFailures: {},
    hangs: 0,
    hangsInARow: 0,
    setups: {},
    closeReasons: {},
    failCodes: {},
  };
}

/** A fresh link that answered its first probe, or undefined (counted: a failure, or a hang). */
async function opened(
  ep: FuzzEndpoint,
  o: ChannelOptions,
  t: ChannelTally,
  seq: number,
): Promise<FuzzLink | undefined> {
  let link: FuzzLink;
  try {
    link = new FuzzLink(await ep.open(o.hangMs), t, ep.ctx.target);
  } catch (err) {
    const e = toL8Error(err);
    bump(t.openFailures, e.code);
    if (e.code === 'L8_ERR_TIMEOUT' && !o.stopped()) hung(t);
    // a target that refuses at once is not dialled again in a tight loop
    await new Promise((r) => setTimeout(r, RETRY_MS));
    return undefined;
  }
  t.links++;
  if (!link.isClosed) t.probes++;
  const outcome = await link.probe(ep.probe(seq), seq, o.hangMs);
  if (outcome === 'answered') {
    t.hangsInARow = 0;
    return link;
  }
  if (outcome === 'timeout' && !o.stopped()) hung(t);
  link.close();
  return undefined;
}

function hung(t: ChannelTally): void {
  t.hangs++;
  t.hangsInARow++;
}

/** Sends one batch and probes; returns the link if it is still good for more. */
async function fuzzBatch(
  link: FuzzLink,
  batch: ReturnType<FrameMutator['batch']>,
  ep: FuzzEndpoint,
  o: ChannelOptions,
  t: ChannelTally,
  seq: number,
): Promise<FuzzLink | undefined> {
  const sent = await link.send(batch, o.hangMs);
  t.framesSent += sent.frames;
  t.bytesSent += sent.bytes;
  t.batches++;
  if (sent.stalled) {
    hung(t);
    link.close();
    return undefined;
  }
  if (batch.at(-1)?.ends === 'desync' && sent.frames === batch.length) {
    link.close();
    await link.closed();
    t.endedByFuzzer++;
    return undefined;
  }
  if (!link.isClosed) t.probes++;
  const outcome = await link.probe(ep.probe(seq), seq, o.probeMs);
  if (outcome === 'answered') return link;
  if (outcome === 'cut') t.cutByTarget++;
  else t.probeTimeouts++;
  link.close();
  return undefined;
}

/** One mutated link setup, its verdict counted. */
async function mutatedSetup(
  ep: FuzzEndpoint,
  rng: FuzzRandom,
  o: ChannelOptions,
  t: ChannelTally,
  coverage: Map<string, number>,
): Promise<void> {
  try {
    bump(t.setups, await ep.mutatedSetup(rng, o.probeMs, coverage));
  } catch (err) {
    bump(t.setups, `failed:${toL8Error(err).code}`);
  }
}
