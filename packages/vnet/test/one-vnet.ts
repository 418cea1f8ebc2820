import { devProvider, startTopology, type Topology } from '@layer8/testkit';
import { VNic, type VNicOptions } from '@layer8/vnic';

/** One dev VNet and the VNics a test adds to it on its unix socket; `close` closes them all. */
export interface OneVNet {
  readonly topo: Topology;
  vnic(alias?: string, options?: Partial<VNicOptions>): Promise<VNic>;
  close(): Promise<void>;
}

/** Starts one dev VNet (no VNic yet). */
export async function oneVNet(): Promise<OneVNet> {
  const topo = await startTopology({ vnets: 1, vnicsPerVnet: 0, provider: () => devProvider() });
  const vnics: VNic[] = [];
  return {
    topo,
    vnic: async (alias, options = {}) => {
      const path = topo.vnets[0]?.addresses.unix as string;
      const n = new VNic({ provider: devProvider(), vnet: { path }, ...(alias ? { alias } : {}), ...options });
      await n.connect();
      vnics.push(n);
      return n;
    },
    close: async () => {
      await Promise.all(vnics.map((n) => n.close()));
      await topo.close();
    },
  };
}
