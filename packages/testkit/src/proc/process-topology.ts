import { Agent, type AgentConfig, type AgentSecurity, freePort, hostAddress, tempDir } from '@layer8/chaos';
import { initSecurity } from '@layer8/security';

/** Options of {@link startProcessTopology}. */
export interface ProcessTopologyOptions {
  readonly vnets: number;
  readonly vnicsPerVnet: number;
  /** The dev provider's passphrase every process shares (ignored with `tls`). */
  readonly passphrase?: string;
  /**
   * Run the TLS provider instead: a temporary overlay CA with a VNet certificate `vnet-<i>` per VNet and
   * a VNic certificate `vnic-<i>-<j>` per VNic. Default false.
   */
  readonly tls?: boolean;
  readonly heartbeatMs?: number;
  readonly maxFrame?: number;
}

/** VNets and VNics in separate processes, VNets on 127.0.0.2, .3, … in a full mesh. */
export interface ProcessTopology {
  readonly vnets: Agent[];
  readonly vnics: Agent[][];
  /** The overlay directory with `tls`, else undefined. */
  readonly securityDir: string | undefined;
  /** Restarts VNet `i` on the same address and socket (after a kill). */
  restartVNet(i: number): Promise<Agent>;
  close(): Promise<void>;
}

/** Starts a {@link ProcessTopology}; VNet ports are chosen free beforehand so a restart can reuse them. */
export async function startProcessTopology(o: ProcessTopologyOptions): Promise<ProcessTopology> {
  const dir = tempDir('l8-proc-');
  const hb = o.heartbeatMs ?? 1000;
  const names = Array.from({ length: o.vnets }, (_, i) => `vnet-${i}`);
  const nics = (i: number): string[] => Array.from({ length: o.vnicsPerVnet }, (_, j) => `vnic-${i}-${j}`);
  if (o.tls) await initSecurity({ dir: dir.path, vnets: names, nodes: names.flatMap((_, i) => nics(i)) });
  const security = (node: string): AgentSecurity =>
    o.tls ? { tls: { dir: dir.path, node } } : { passphrase: o.passphrase ?? '' };
  const configs: Extract<AgentConfig, { role: 'vnet' }>[] = [];
  for (let i = 0; i < o.vnets; i++) {
    const host = hostAddress(i);
    configs.push({
      role: 'vnet',
      alias: `vnet-${i}`,
      host,
      port: await freePort(host),
      socketPath: `${dir.path}/vnet-${i}.sock`,
      peers: configs.map((c) => ({ host: c.host, port: c.port })),
      heartbeatMs: hb,
      ...security(`vnet-${i}`),
      ...(o.maxFrame === undefined ? {} : { maxFrame: o.maxFrame }),
    });
  }
  const vnets = await Promise.all(configs.map((c) => new Agent(c).start()));
  const vnics = await Promise.all(
    configs.map((c, i) =>
      Promise.all(
        nics(i).map((alias) =>
          new Agent({
            role: 'vnic',
            alias,
            socketPath: c.socketPath,
            heartbeatMs: hb,
            reconnect: { firstMs: 50, maxMs: 500 },
            ...security(alias),
          }).start(),
        ),
      ),
    ),
  );
  return {
    vnets,
    vnics,
    securityDir: o.tls ? dir.path : undefined,
    restartVNet: async (i) => {
      vnets[i] = await new Agent(configs[i] as AgentConfig).start();
      return vnets[i];
    },
    close: async () => {
      await Promise.all([...vnics.flat(), ...vnets].map((a) => a.stop()));
      dir.remove();
    },
  };
}
