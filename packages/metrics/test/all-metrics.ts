import { Gateway } from '@layer8/gateway';
import { devProvider } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import {
  BreakerMetrics,
  newRegistry,
  type Registry,
  registerServiceMetrics,
  registerVNetMetrics,
  VNicMetrics,
} from '../src/index.ts';

/** A registry holding every metric a Layer8 process can serve, each labelled metric with a sample. */
export interface AllMetrics {
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Every Layer8 metric and the process metrics on one registry: a VNet's, a VNic's with its breakers, a
 * service manager's and a started gateway's (answering one HTTP request), so that each labelled metric
 * has a sample that shows its labels. Nothing here joins an overlay.
 */
export async function allMetrics(): Promise<AllMetrics> {
  const registry = newRegistry({ process: true });
  const vnet = new VNet({ provider: devProvider(), port: 0, socketPath: false });
  registerVNetMetrics(registry, vnet);
  vnet.counters.handshake('accepted');
  const metrics = new VNicMetrics(registry);
  const breakers = new BreakerMetrics(registry);
  const vnic = new VNic({ provider: devProvider(), vnet: '127.0.0.1:1', observer: metrics });
  metrics.track(vnic);
  breakers.track(vnic);
  metrics.called('svc', 8, 'OK', 0.001);
  breakers.onChange({ service: 'svc', area: 0, node: vnic.id, from: 'closed', to: 'open' });
  const counters = { items: 1, requests: 2, errors: 0, replicated: 0, ignored: 0, fetched: 0, unsent: 0 };
  registerServiceMetrics(registry, { services: () => [{ name: 'svc', area: 0, counters }] });
  const gateway = new Gateway({ vnic, port: 0, metrics: { registry } });
  const { url } = await gateway.start();
  await (await fetch(`${url}/openapi.json`)).text();
  return {
    registry,
    close: async () => {
      await gateway.close();
      await vnic.close();
    },
  };
}
