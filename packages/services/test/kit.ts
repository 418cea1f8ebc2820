import { toBinary } from '@bufbuild/protobuf';
import { file_layer8_demo_v1_demo, OrderSchema } from '@layer8/fixtures';
import { TypeRegistry } from '@layer8/model';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { ServiceManager, type StatefulInstance } from '../src/index.ts';

/** The demo models. */
export function registry(): TypeRegistry {
  return new TypeRegistry().register(file_layer8_demo_v1_demo);
}

/** A node of a test overlay: its VNic and its service manager. */
export interface Node {
  readonly vnic: VNic;
  readonly services: ServiceManager;
}

/** An overlay of `vnets` VNets (127.0.0.2, .3, …, TLS) with `perVnet` nodes each. */
export interface Overlay {
  readonly vnets: VNet[];
  readonly nodes: Node[];
  /** Adds a node on VNet `i`. */
  node(i: number, name: string): Promise<Node>;
  close(): Promise<void>;
}

/** Starts an overlay whose certificates cover `extra` more node names. */
export async function overlay(vnets: number, perVnet: number, extra: readonly string[] = []): Promise<Overlay> {
  const names = Array.from({ length: vnets * perVnet }, (_, i) => `n${i}`);
  const ca: TempOverlay = await tempOverlay([...names, ...extra], {
    vnets: Array.from({ length: vnets }, (_, i) => `v${i}`),
  });
  const dir = tempDir('l8-svc-');
  const nets: VNet[] = [];
  for (let i = 0; i < vnets; i++) {
    const v = new VNet({
      provider: ca.provider(`v${i}`),
      host: hostAddress(i),
      port: 0,
      socketPath: `${dir.path}/v${i}.sock`,
      peers: nets.map((n) => n.addresses.tcp),
      alias: `v${i}`,
    });
    await v.start();
    nets.push(v);
  }
  const all: Node[] = [];
  const node = async (i: number, name: string): Promise<Node> => {
    const vnic = new VNic({
      provider: ca.provider(name),
      alias: name,
      vnet: { path: nets[i]?.addresses.unix as string },
    });
    await vnic.connect();
    const n = { vnic, services: new ServiceManager(vnic, { registry: registry() }) };
    all.push(n);
    return n;
  };
  for (let i = 0; i < vnets * perVnet; i++) await node(Math.floor(i / perVnet), `n${i}`);
  await waitFor(() => all.every((n) => n.vnic.health.size === all.length + nets.length), {
    what: 'every node in health',
  });
  return {
    vnets: nets,
    nodes: all,
    node,
    close: async () => {
      for (const n of all) await n.services.close();
      await Promise.all(all.map((n) => n.vnic.close()));
      await Promise.all(nets.map((v) => v.close()));
      dir.remove();
      ca.remove();
    },
  };
}

/** The full content of an instance: key, version, writer and the entity's bytes, in key order. */
export function contentOf(i: StatefulInstance | undefined): string {
  if (i === undefined) return 'absent';
  return i.cache
    .entries()
    .map(
      ([k, h]) =>
        `${k}@${h.version}/${h.writer}:${Buffer.from(toBinary(OrderSchema, h.entity as never)).toString('hex')}`,
    )
    .join('\n');
}
