import { hostAddress, tempDir } from '@layer8/chaos';
import type { SecurityProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { waitFor } from './wait.ts';

/** Options of {@link startTopology}. */
export interface TopologyOptions {
  /** Number of VNets, each on its own loopback address (127.0.0.2, .3, …). */
  readonly vnets: number;
  /** VNics attached to each VNet. */
  readonly vnicsPerVnet: number;
  /** A provider per component (all must share one overlay). */
  readonly provider: () => SecurityProvider;
  readonly heartbeatMs?: number;
  readonly statsMs?: number;
  /** How VNics reach their VNet. Default `unix`. */
  readonly vnicTransport?: 'unix' | 'tcp';
}

/** A running in-process topology: VNets in a full mesh, VNics on each. */
export interface Topology {
  readonly vnets: VNet[];
  /** `vnics[i]` are the VNics of `vnets[i]`. */
  readonly vnics: VNic[][];
  /** Resolves when every VNet and VNic sees every node up. */
  converged(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts N VNets on distinct loopback addresses (port 0), peers each with every earlier one (full mesh),
 * and M VNics per VNet, all in this process: the fast form of the original's 3 × 4 test topology.
 */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const dir = tempDir('l8-topo-');
  const vnets: VNet[] = [];
  for (let i = 0; i < options.vnets; i++) {
    const peers = vnets.map((v) => v.addresses.tcp);
    const vnet = new VNet({
      provider: options.provider(),
      host: hostAddress(i),
      port: 0,
      socketPath: `${dir.path}/vnet-${i}.sock`,
      peers,
      alias: `vnet-${i}`,
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      ...(options.statsMs === undefined ? {} : { statsMs: options.statsMs }),
    });
    await vnet.start();
    vnets.push(vnet);
  }
  const vnics = await Promise.all(vnets.map((v, i) => startVNics(v, i, options)));
  const topology: Topology = {
    vnets,
    vnics,
    converged: (timeoutMs = 10_000) => converged(vnets, vnics.flat(), timeoutMs),
    close: async () => {
      await Promise.all(vnics.flat().map((n) => n.close()));
      await Promise.all(vnets.map((v) => v.close()));
      dir.remove();
    },
  };
  return topology;
}

async function startVNics(vnet: VNet, i: number, options: TopologyOptions): Promise<VNic[]> {
  const out: VNic[] = [];
  for (let j = 0; j < options.vnicsPerVnet; j++) {
    const vnic = new VNic({
      provider: options.provider(),
      vnet: options.vnicTransport === 'tcp' ? vnet.addresses.tcp : { path: vnet.addresses.unix as string },
      alias: `vnic-${i}-${j}`,
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      ...(options.statsMs === undefined ? {} : { statsMs: options.statsMs }),
    });
    await vnic.connect();
    out.push(vnic);
  }
  return out;
}

async function converged(vnets: VNet[], vnics: VNic[], timeoutMs: number): Promise<void> {
  const total = vnets.length + vnics.length;
  const upIn = (t: VNic['health']): number => t.all().filter((r) => r.status === 'up').length;
  await waitFor(() => [...vnets, ...vnics].every((n) => upIn(n.health) === total && n.health.size === total), {
    timeoutMs,
    what: `${total} nodes up in every health table`,
  });
}
