import type { HealthRecord } from '@layer8/health';
import { assertNodeId } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { type Payload, type Target, VNic } from '@layer8/vnic';
import { type AgentConfig, wallNow } from './agent-protocol.ts';
import { storeClientCommands, storeCommands } from './agent-store.ts';
import type { AgentCommands } from './agent-vnet.ts';
import { LoadDriver } from './load.ts';
import { ECHO_SERVICE, type LoadFinal, type LoadOptions, NEWS_SERVICE } from './load-batch.ts';
import { Watch } from './watch.ts';

type VNicConfig = Extract<AgentConfig, { role: 'vnic' }>;

/** Connects the VNic of a `vnic` agent, says it is ready, and returns the commands it answers. */
export async function startVNicAgent(c: VNicConfig, provider: SecurityProvider): Promise<AgentCommands> {
  const vnic = new VNic({
    provider,
    alias: c.alias,
    vnet: c.vnetTcp ?? { path: c.socketPath ?? '' },
    heartbeatMs: c.heartbeatMs,
    ...(c.reconnect === undefined ? {} : { reconnect: c.reconnect }),
  });
  await vnic.connect();
  const store = c.store === undefined ? storeClientCommands(vnic) : await storeCommands(vnic, c.store.dir);
  process.send?.({ ready: true, nodeId: vnic.id, pid: process.pid, at: wallNow() });
  return { ...probeCommands(vnic, c.alias), ...chaosCommands(vnic), ...store };
}

/** What a test asks of a VNic process: subscribe with a behaviour, send, count what arrived. */
function probeCommands(vnic: VNic, alias: string): AgentCommands {
  const counts = new Map<string, number>();
  const count = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    subscribe: ({ service, area, behavior }) => {
      const key = `${String(area)}/${String(service)}`;
      vnic.subscribe({ service: String(service), area: Number(area) }, (m) => {
        count(key);
        if (behavior === 'hang') return new Promise(() => undefined);
        if (behavior === 'slow') {
          const until = performance.now() + 0.05;
          while (performance.now() < until);
          return undefined;
        }
        return { by: alias, id: vnic.id, got: m.json() };
      });
    },
    request: async ({ target, payload, timeoutMs }) => {
      const r = await vnic.request(target as Target, payload as Payload, { timeoutMs: Number(timeoutMs ?? 5000) });
      return r.json();
    },
    multicast: ({ service, area, payload }) =>
      vnic.multicast({ service: String(service), area: Number(area) }, payload as Payload),
    unicast: ({ node, service, area, payload }) =>
      vnic.send({ node: assertNodeId(node), service: String(service), area: Number(area) }, payload as Payload),
    counts: () => Object.fromEntries(counts),
    resetCounts: () => counts.clear(),
    health: (): HealthRecord[] => vnic.health.all(),
    state: () => ({ state: vnic.state, vnet: vnic.vnetId }),
    close: () => vnic.close(),
  };
}

/**
 * `chaos.start` (serve the chaos services, send, watch and push batches) and `chaos.stop` (stop sending and
 * watching, answer the unsettled). The services stay served between runs; each run counts afresh.
 */
function chaosCommands(vnic: VNic): AgentCommands {
  let running: { load: LoadDriver; watch: Watch } | undefined;
  let served = false;
  const serve = (): void => {
    served = true;
    vnic.subscribe({ service: ECHO_SERVICE }, (m, ctx) => {
      const { n } = m.json<{ n: number }>();
      running?.load.echo(n, ctx.source);
      return { n };
    });
    vnic.subscribe({ service: NEWS_SERVICE }, (m) => void running?.load.news(m.json<{ q: number }>().q, m.source));
  };
  return {
    'chaos.start': (args) => {
      if (running !== undefined) return;
      if (!served) serve();
      const load = new LoadDriver(vnic, args as unknown as LoadOptions);
      const watch = new Watch(vnic, load, (body) => process.send?.({ push: 'load', body }));
      running = { load, watch };
      load.start();
      watch.start();
    },
    'chaos.stop': async (): Promise<LoadFinal> => {
      const run = running;
      if (run === undefined) return { unsettled: [] };
      const final = await run.load.stop();
      run.watch.stop();
      running = undefined;
      return final;
    },
  };
}
