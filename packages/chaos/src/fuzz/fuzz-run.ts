import { join } from 'node:path';
import { l8error, type NodeId } from '@layer8/protocol';
import { checkSeed } from '../run/prng.ts';
import { ControlPair, type ControlTally } from './control-pair.ts';
import { type FuzzEndpoint, vnetEndpoint, vnicEndpoint } from './endpoints.ts';
import { FakeVNet } from './fake-vnet.ts';
import { type ChannelResult, runChannel } from './fuzz-channel.ts';
import { FuzzRandom } from './fuzz-random.ts';
import { type FuzzReport, fuzzReport, type TargetReport, targetReport } from './fuzz-report.ts';
import { FUZZ_NODES, FUZZ_VNETS, FuzzSecurity } from './fuzz-security.ts';
import type { TargetStats } from './target-config.ts';
import { TargetProcess } from './target-process.ts';

/** Options of {@link runFuzz} (`l8 chaos fuzz`). */
export interface FuzzOptions {
  /** Fuzz frames to send in total, split evenly over the ways into the targets. */
  readonly frames: number;
  /** Seed of every frame and id: the same seed replays the same frames. A uint32. */
  readonly seed: number;
  /** What to fuzz: a VNet (entered as a local VNic, a TCP member and a peer VNet), a VNic (as its VNet), or both. Default `both`. */
  readonly target?: 'vnet' | 'vnic' | 'both';
  /** TLS provider (a CA made for the run) instead of the dev provider (plain TCP). Default false. */
  readonly tls?: boolean;
  /** A target that does not serve for this long has hung, ms. Default 5000. */
  readonly hangMs?: number;
  /** Frames per batch (one write). Default 256. */
  readonly batch?: number;
  /** Share of frames that end a link (a refused length, a bad control message …). Default 1/128. */
  readonly endRate?: number;
  /** A mutated link setup before every this many links. Default 2. */
  readonly setupEvery?: number;
  /** Loopback address the targets listen on. Default 127.0.0.2. */
  readonly host?: string;
  /** Ends the run early (what was done so far is reported). */
  readonly signal?: AbortSignal;
  /** Told the process ids of the targets once they run, before the first frame (to watch or signal them). */
  readonly onTargets?: (targets: readonly { readonly role: 'vnet' | 'vnic'; readonly pid: number }[]) => void;
}

/** The service the control pair and the VNic under test echo on. */
const ECHO = 'chaos.echo';

/** Ids of a run, drawn from its seed (so frames that carry them replay too). */
interface RunIds {
  readonly vnet: NodeId;
  readonly vnic: NodeId;
  readonly fakeVnet: NodeId;
  readonly local: NodeId;
  readonly member: NodeId;
  readonly peer: NodeId;
  readonly nobody: NodeId;
  readonly controlServer: NodeId;
  readonly controlClient: NodeId;
  readonly client: NodeId;
}

/** A target with the ways into it. */
interface Part {
  readonly role: 'vnet' | 'vnic';
  readonly target: TargetProcess;
  readonly endpoints: readonly FuzzEndpoint[];
  readonly control?: ControlPair;
  readonly fake?: FakeVNet;
}

function idsOf(rng: FuzzRandom): RunIds {
  const names = [
    'vnet',
    'vnic',
    'fakeVnet',
    'local',
    'member',
    'peer',
    'nobody',
    'controlServer',
    'controlClient',
    'client',
  ];
  return Object.fromEntries(names.map((n) => [n, rng.nodeId()])) as unknown as RunIds;
}

async function vnetPart(sec: FuzzSecurity, ids: RunIds, host: string, hangMs: number): Promise<Part> {
  const config = {
    role: 'vnet' as const,
    security: sec.target(FUZZ_VNETS.targetVnet),
    id: ids.vnet,
    host,
    socketPath: join(sec.dir, 'vnet.sock'),
  };
  const target = await TargetProcess.start(config);
  const { tcp, unix } = target.ready;
  if (tcp === undefined || unix === undefined)
    throw l8error('L8_ERR_CONNECT', 'the VNet under fuzz did not say where it listens');
  const node = (name: string, id: NodeId) => ({ id, provider: sec.provider(name) });
  const control = new ControlPair({
    vnet: { path: unix },
    server: node(FUZZ_NODES.controlServer, ids.controlServer),
    client: node(FUZZ_NODES.controlClient, ids.controlClient),
    service: ECHO,
    hangMs,
  });
  await control.start();
  const common = {
    vnet: ids.vnet,
    nobody: ids.nobody,
    nodes: [ids.controlServer, ids.controlClient],
    services: [
      { service: ECHO, area: 0 },
      { service: 'chaos.fuzz', area: 0 },
    ],
  };
  const way = (
    name: string,
    cert: string,
    pose: 'vnic' | 'peer',
    self: NodeId,
    address: { path: string } | { host: string; port: number },
  ) =>
    vnetEndpoint({
      ...common,
      name,
      address,
      provider: sec.provider(cert),
      pose,
      self,
      challenge: sec.challenge(cert),
      proofFrames: 'path' in address || sec.tcpProofFrames,
    });
  const endpoints = [
    way('vnet/unix', FUZZ_NODES.local, 'vnic', ids.local, { path: unix }),
    way(sec.kind === 'tls' ? 'vnet/tls' : 'vnet/tcp', FUZZ_NODES.member, 'vnic', ids.member, tcp),
    way('vnet/peer', FUZZ_VNETS.peer, 'peer', ids.peer, tcp),
  ];
  return { role: 'vnet', target, endpoints, control };
}

async function vnicPart(sec: FuzzSecurity, ids: RunIds, host: string): Promise<Part> {
  const fake = new FakeVNet(ids.fakeVnet, sec.provider(FUZZ_VNETS.fakeVnet));
  const vnet = await fake.listen(host);
  const target = await TargetProcess.start({
    role: 'vnic',
    security: sec.target(FUZZ_NODES.targetVnic),
    id: ids.vnic,
    vnet,
    service: ECHO,
  });
  const endpoint = vnicEndpoint({
    fake,
    provider: sec.provider(FUZZ_VNETS.fakeVnet),
    vnic: ids.vnic,
    client: ids.client,
    service: ECHO,
    challenge: sec.challenge(FUZZ_VNETS.fakeVnet),
    proofFrames: sec.tcpProofFrames,
  });
  return { role: 'vnic', target, endpoints: [endpoint], fake };
}

/** Stops what a run started, whatever state it got to. */
async function stopAll(parts: readonly Part[], sec: FuzzSecurity): Promise<void> {
  await Promise.allSettled(
    parts.map(async (p) => {
      await p.target.stop();
      await p.fake?.close();
    }),
  );
  sec.remove();
}

/**
 * Runs the frame fuzzer (docs/reliability.md, "Frame fuzzer"): starts the targets in their own processes
 * (so a crash shows as a process that ends), a control pair of VNics on the VNet, and one fuzzing channel
 * per way in; sends `frames` mutated frames in total; reports frames sent, links cut, what the targets
 * refused by code, crashes, hangs, and the targets' memory before and after.
 * @throws L8_ERR_INVALID_ARGUMENT for a bad seed or frame count; the start error of a target
 */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  checkSeed(o.seed);
  if (!Number.isSafeInteger(o.frames) || o.frames < 1)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `frames ${o.frames} is not a positive integer`);
  const started = performance.now();
  const rng = new FuzzRandom(o.seed);
  const ids = idsOf(rng);
  const hangMs = o.hangMs ?? 5000;
  const which = o.target ?? 'both';
  const sec = await FuzzSecurity.create(o.tls ?? false);
  const parts: Part[] = [];
  try {
    if (which !== 'vnic') parts.push(await vnetPart(sec, ids, o.host ?? '127.0.0.2', hangMs));
    if (which !== 'vnet') parts.push(await vnicPart(sec, ids, o.host ?? '127.0.0.2'));
    const before = await Promise.all(parts.map((p) => p.target.stats()));
    o.onTargets?.(parts.map((p) => ({ role: p.role, pid: p.target.pid })));
    const results = await fuzzAll(parts, rng, o, hangMs);
    const control = await parts.find((p) => p.control !== undefined)?.control?.stop();
    const targets = await Promise.all(parts.map((p, i) => reportOf(p, before[i] as TargetStats, results)));
    const run = { seed: o.seed, tls: o.tls ?? false, frames: o.frames, durationMs: performance.now() - started };
    return fuzzReport(run, results, targets, control as ControlTally | undefined);
  } finally {
    await stopAll(parts, sec);
  }
}

/** Runs every channel of every part at once; a part's channels stop when its target ends. */
async function fuzzAll(
  parts: readonly Part[],
  rng: FuzzRandom,
  o: FuzzOptions,
  hangMs: number,
): Promise<ChannelResult[]> {
  const ways = parts.flatMap((p) => p.endpoints.map((ep) => ({ ep, target: p.target })));
  const share = (i: number): number => Math.floor(o.frames / ways.length) + (i < o.frames % ways.length ? 1 : 0);
  const seeds = ways.map(() => rng.u32());
  return Promise.all(
    ways.map(({ ep, target }, i) =>
      runChannel(ep, {
        frames: share(i),
        seed: seeds[i] as number,
        batch: o.batch ?? 256,
        endRate: o.endRate ?? 1 / 128,
        setupEvery: o.setupEvery ?? 2,
        hangMs,
        probeMs: Math.min(hangMs, 250),
        stopped: () => o.signal?.aborted === true || !target.alive,
      }),
    ),
  );
}

/** A target's report: its counters after the run (none when it crashed) against those before. */
async function reportOf(p: Part, before: TargetStats, results: readonly ChannelResult[]): Promise<TargetReport> {
  const after = p.target.alive ? await p.target.stats().catch(() => undefined) : undefined;
  const exit = p.target.alive ? undefined : await p.target.exited();
  const names = new Set(p.endpoints.map((e) => e.name));
  const probes = results.filter((r) => names.has(r.name)).reduce((n, r) => n + r.probes, 0);
  return targetReport(p.role, before, after, exit, probes);
}
