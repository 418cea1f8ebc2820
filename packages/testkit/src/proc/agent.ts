/**
 * Entry point of an agent process: runs one VNet or one VNic from the JSON config in argv[2] and
 * answers the test's commands over IPC. Started by {@link ProcessTopology}.
 */
import type { HealthRecord } from '@layer8/health';
import { assertNodeId, type L8Error, toL8Error } from '@layer8/protocol';
import { DevProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { type Payload, type Target, VNic } from '@layer8/vnic';
import type { AgentAnswer, AgentCommand, AgentConfig } from './agent-protocol.ts';

type Commands = Record<string, (args: Record<string, unknown>) => unknown>;

const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
const provider = new DevProvider({ passphrase: config.passphrase, warn: () => undefined });
const commands: Commands = config.role === 'vnet' ? await startVNet(config) : await startVNic(config);

process.on('message', (raw) => void answer(raw as AgentCommand));
process.on('disconnect', () => process.exit(0));

async function answer(c: AgentCommand): Promise<void> {
  let reply: AgentAnswer;
  try {
    const fn = commands[c.cmd];
    if (fn === undefined) throw new Error(`unknown agent command ${c.cmd}`);
    reply = { id: c.id, ok: true, value: await fn(c.args ?? {}) };
  } catch (err) {
    const e: L8Error = toL8Error(err);
    reply = { id: c.id, ok: false, error: { code: e.code, message: e.message, name: e.name } };
  }
  process.send?.(reply);
}

async function startVNet(c: Extract<AgentConfig, { role: 'vnet' }>): Promise<Commands> {
  const vnet = new VNet({
    provider,
    alias: c.alias,
    host: c.host,
    port: c.port,
    socketPath: c.socketPath,
    peers: c.peers,
    heartbeatMs: c.heartbeatMs,
    ...(c.maxFrame === undefined ? {} : { maxFrame: c.maxFrame }),
  });
  const addresses = await vnet.start();
  process.send?.({ ready: true, nodeId: vnet.id, pid: process.pid, addresses });
  return {
    stats: () => ({
      drops: vnet.drops,
      forwarded: vnet.forwardedPerPeer(),
      peers: [...vnet.peers.keys()],
      locals: vnet.locals.size,
      health: vnet.health.all(),
    }),
    close: () => vnet.close(),
  };
}

async function startVNic(c: Extract<AgentConfig, { role: 'vnic' }>): Promise<Commands> {
  const vnic = new VNic({
    provider,
    alias: c.alias,
    vnet: { path: c.socketPath },
    heartbeatMs: c.heartbeatMs,
    reconnect: { firstMs: 50, maxMs: 500 },
  });
  await vnic.connect();
  process.send?.({ ready: true, nodeId: vnic.id, pid: process.pid });
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
        return { by: c.alias, id: vnic.id, got: m.json() };
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
