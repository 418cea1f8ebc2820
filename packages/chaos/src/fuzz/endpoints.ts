import type { LinkAddress, NodeHello } from '@layer8/link';
import { DEFAULT_MAX_FRAME, encodeMessage, Kind, type NodeId } from '@layer8/protocol';
import { dialLink, type OpenedLink, type SecurityProvider } from '@layer8/security';
import type { FakeVNet } from './fake-vnet.ts';
import type { FuzzRandom } from './fuzz-random.ts';
import { acceptMutated, dialMutated, type SetupSpec } from './handshake-fuzz.ts';
import type { FuzzContext, Pose } from './templates.ts';

/**
 * One way into a target: how the fuzzer opens a link to it, what it may send there, and how it asks
 * the target to prove it still reads and answers. A VNet is entered as a local VNic (unix socket), as
 * a member over TCP (TLS, or plain with the dev provider) and as a peer VNet; a VNic by posing as its VNet.
 */
export interface FuzzEndpoint {
  /** Names the way in, such as `vnet/unix`, `vnet/tcp`, `vnet/peer`, `vnic/tcp`. */
  readonly name: string;
  readonly ctx: FuzzContext;
  /** The target's largest frame: a longer length prefix closes the link. */
  readonly maxFrame: number;
  /** Whether the target closes the link on a malformed control message (a VNet does; a VNic counts it). */
  readonly badControlCuts: boolean;
  /** A fully set-up link. @throws the setup's code, or L8_ERR_TIMEOUT past `timeoutMs` */
  open(timeoutMs: number): Promise<OpenedLink>;
  /** A request the target must answer (REPLY or FAIL) with sequence `seq`. */
  probe(seq: number): Buffer;
  /** One link setup with a mutated message; resolves with `<stage>:<verdict>` (handshake-fuzz.ts). */
  mutatedSetup(rng: FuzzRandom, timeoutMs: number, coverage: Map<string, number>): Promise<string>;
}

/** How the fuzzer reaches a VNet through one of its listeners. */
export interface VNetWay {
  readonly name: string;
  readonly address: LinkAddress;
  readonly provider: SecurityProvider;
  readonly pose: Extract<Pose, 'vnic' | 'peer'>;
  /** This link's node id (stable across redials, so the VNet replaces the old link). */
  readonly self: NodeId;
  readonly vnet: NodeId;
  /** An id nobody holds: a request to it is answered `L8_ERR_UNREACHABLE` (the probe). */
  readonly nobody: NodeId;
  readonly nodes: readonly NodeId[];
  readonly services: FuzzContext['services'];
  /** Fields of this provider's challenge besides t, nonce and nodeId. */
  readonly challenge: Readonly<Record<string, unknown>>;
  /** Whether the proof on this address is made of handshake frames (unix socket, or the dev provider). */
  readonly proofFrames: boolean;
}

function helloOf(self: NodeId, pose: Pose, vnet: NodeId): NodeHello {
  const role = pose === 'vnic' ? 'vnic' : 'vnet';
  const services = pose === 'vnic' ? [{ service: 'chaos.fuzz', area: 0 }] : [];
  return {
    version: 1,
    nodeId: self,
    alias: `fuzz-${pose}`,
    role,
    vnet: role === 'vnic' ? vnet : self,
    services,
    maxFrame: DEFAULT_MAX_FRAME,
    heartbeatMs: 3000,
  };
}

/** An endpoint into a running VNet. */
export function vnetEndpoint(w: VNetWay): FuzzEndpoint {
  const hello = helloOf(w.self, w.pose, w.vnet);
  const transport = 'path' in w.address ? 'unix' : 'tcp';
  const spec: SetupSpec = {
    provider: w.provider,
    hello,
    transport,
    proofFrames: w.proofFrames,
    challenge: w.challenge,
  };
  return {
    name: w.name,
    ctx: { self: w.self, pose: w.pose, target: w.vnet, nodes: w.nodes, services: w.services },
    maxFrame: DEFAULT_MAX_FRAME,
    badControlCuts: true,
    open: (timeoutMs) => dialLink(w.provider, w.address, hello, timeoutMs),
    probe: (seq) => encodeMessage({ kind: Kind.REQUEST, source: w.self, destination: w.nobody, sequence: seq }),
    mutatedSetup: (rng, timeoutMs, coverage) => dialMutated(rng, w.address, spec, timeoutMs, coverage),
  };
}

/** How the fuzzer stands in for the VNet of a VNic under test. */
export interface VNicWay {
  readonly fake: FakeVNet;
  readonly provider: SecurityProvider;
  readonly vnic: NodeId;
  /** The node the probes come from (a requester behind this VNet). */
  readonly client: NodeId;
  readonly service: string;
  readonly challenge: Readonly<Record<string, unknown>>;
  readonly proofFrames: boolean;
}

/** An endpoint into a running VNic, through the fuzzer posing as its VNet. */
export function vnicEndpoint(w: VNicWay): FuzzEndpoint {
  const spec: SetupSpec = {
    provider: w.provider,
    hello: w.fake.hello(),
    transport: 'tcp',
    proofFrames: w.proofFrames,
    challenge: w.challenge,
  };
  return {
    name: 'vnic/tcp',
    ctx: {
      self: w.fake.id,
      pose: 'vnet',
      target: w.vnic,
      nodes: [w.vnic, w.client],
      services: [{ service: w.service, area: 0 }],
    },
    maxFrame: DEFAULT_MAX_FRAME,
    badControlCuts: false,
    open: (timeoutMs) => w.fake.accept(timeoutMs),
    probe: (seq) =>
      encodeMessage({
        kind: Kind.REQUEST,
        source: w.client,
        origin: w.fake.id,
        destination: w.vnic,
        service: w.service,
        sequence: seq,
      }),
    mutatedSetup: async (rng, timeoutMs, coverage) =>
      acceptMutated(rng, await w.fake.next(timeoutMs), spec, timeoutMs, coverage),
  };
}
