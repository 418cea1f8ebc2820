import { join } from 'node:path';
import { l8error, type NodeId } from '@layer8/protocol';
import { ControlPair } from './control-pair.ts';
import { type FuzzEndpoint, vnetEndpoint, vnicEndpoint } from './endpoints.ts';
import { FakeVNet } from './fake-vnet.ts';
import type { FuzzRandom } from './fuzz-random.ts';
import { FUZZ_NODES, FUZZ_VNETS, type FuzzSecurity } from './fuzz-security.ts';
import { type FuzzTarget, TargetProcess } from './target-process.ts';

/**
 * The parts of a fuzz run: each target with the ways into it. Here the targets the fuzzer starts in
 * processes of its own (a VNet, and a VNic that dials the fuzzer as its VNet); remote-vnet.ts makes
 * the part of a VNet that runs already.
 */

/** The service the control pair and the VNic under test echo on. */
export const ECHO = 'chaos.echo';

/** Ids of a run, drawn from its seed (so frames that carry them replay too). */
export interface RunIds {
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
export interface Part {
  readonly role: 'vnet' | 'vnic';
  readonly target: FuzzTarget;
  readonly endpoints: readonly FuzzEndpoint[];
  readonly control?: ControlPair;
  readonly fake?: FakeVNet;
}

/** The ids of a run, from its seed. */
export function idsOf(rng: FuzzRandom): RunIds {
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

/** A VNet in a process of its own, entered as a local VNic, a TCP member and a peer VNet, with a control pair on its socket. */
export async function vnetPart(sec: FuzzSecurity, ids: RunIds, host: string, hangMs: number): Promise<Part> {
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

/** A VNic in a process of its own that dials the fuzzer posing as its VNet. */
export async function vnicPart(sec: FuzzSecurity, ids: RunIds, host: string): Promise<Part> {
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
