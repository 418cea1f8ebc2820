/**
 * Worker process of the scale benchmark holding the VNics of several VNets: each VNic attaches to its
 * VNet's unix socket with the default TLS provider (one certificate per VNet's group) and offers one
 * service, as an idle application would. Driven over IPC by bench/scale.ts.
 */
import { TlsProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';
import { serve } from './overlay-ipc.ts';
import type { Traffic } from './scale-vnet.ts';

/** The VNics of one VNet: `count` of them on the socket at `path`, proven with certificate `node`. */
export interface VNicGroup {
  /** The VNet's index in the overlay. */
  readonly vnet: number;
  readonly path: string;
  readonly node: string;
  readonly count: number;
}

/** Arguments of the `attach` operation. */
export interface AttachArgs {
  readonly dir: string;
  readonly groups: readonly VNicGroup[];
  /** The heartbeat deadline; the product's default when absent. */
  readonly heartbeatMs?: number;
}

/** The health tables of this process's VNics: the smallest and largest, and the fewest `up` records. */
export interface VNicsStatus {
  readonly vnics: number;
  readonly connected: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly minUp: number;
}

/** The service every VNic offers (its record carries it, as an application's would). */
export const SCALE_SERVICE = 'scale';

/**
 * Deadline of a VNic's first connect, ms: the setup is not measured, and on a 2-core machine shared with
 * 80 other processes a VNet may take longer than the default 10 s to finish a handshake.
 */
const connectTimeoutMs = 60_000;
const groups = new Map<number, VNic[]>();

async function attachGroup(dir: string, g: VNicGroup, heartbeatMs: number | undefined): Promise<string[]> {
  const provider = new TlsProvider({ dir, node: g.node });
  const hb = heartbeatMs === undefined ? {} : { heartbeatMs };
  const mine: VNic[] = [];
  for (let k = 0; k < g.count; k++) {
    const n = new VNic({ provider, vnet: { path: g.path }, alias: `${g.node}-${k}`, connectTimeoutMs, ...hb });
    n.subscribe({ service: SCALE_SERVICE, area: 0 }, () => undefined);
    mine.push(n);
  }
  groups.set(g.vnet, [...(groups.get(g.vnet) ?? []), ...mine]);
  await Promise.all(mine.map((n) => n.connect()));
  return mine.map((n) => n.id);
}

/** Attaches every group, one VNet after the other (its VNics at once); answers the node ids by VNet. */
async function attach(a: AttachArgs): Promise<Record<number, string[]>> {
  const ids: Record<number, string[]> = {};
  for (const g of a.groups) ids[g.vnet] = await attachGroup(a.dir, g, a.heartbeatMs);
  return ids;
}

function all(): VNic[] {
  return [...groups.values()].flat();
}

function traffic(): Traffic {
  let framesOut = 0;
  let bytesOut = 0;
  let writes = 0;
  for (const n of all()) {
    const s = n.linkStats;
    if (s === undefined) continue;
    framesOut += s.framesOut;
    bytesOut += s.bytesOut;
    writes += s.writes;
  }
  const cpu = process.cpuUsage();
  const counts = { linksClosed: 0, heartbeats: 0, health: 0 };
  return { framesOut, bytesOut, writes, cpuUs: cpu.user + cpu.system, at: Date.now(), ...counts };
}

function upCount(n: VNic): number {
  let up = 0;
  for (const r of n.health.all()) if (r.status === 'up') up++;
  return up;
}

function status(): VNicsStatus {
  const list = all();
  const sizes = list.map((n) => n.health.size);
  return {
    vnics: list.length,
    connected: list.filter((n) => n.state === 'connected').length,
    minSize: Math.min(...sizes),
    maxSize: Math.max(...sizes),
    minUp: Math.min(...list.map(upCount)),
  };
}

/** Closes the VNics of VNet `vnet` (gone for good): they would otherwise keep redialling its socket. */
async function drop({ vnet }: { vnet: number }): Promise<void> {
  const list = groups.get(vnet) ?? [];
  groups.delete(vnet);
  await Promise.all(list.map((n) => n.close()));
}

serve({
  attach,
  traffic,
  status,
  drop,
  close: () => Promise.all(all().map((n) => n.close())),
});
