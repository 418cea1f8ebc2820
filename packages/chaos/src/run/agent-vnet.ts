import type { SecurityProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { type AgentConfig, wallNow } from './agent-protocol.ts';

/** The commands an agent answers: name → handler of the command's arguments. */
export type AgentCommands = Record<string, (args: Record<string, unknown>) => unknown>;

/** Starts the VNet of a `vnet` agent, says it is ready, and returns the commands it answers. */
export async function startVNetAgent(
  c: Extract<AgentConfig, { role: 'vnet' }>,
  provider: SecurityProvider,
): Promise<AgentCommands> {
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
  process.send?.({ ready: true, nodeId: vnet.id, pid: process.pid, addresses, at: wallNow() });
  return {
    stats: () => ({
      drops: vnet.drops,
      forwarded: vnet.forwardedPerPeer(),
      peers: [...vnet.peers.keys()],
      locals: vnet.locals.size,
      health: vnet.health.all(),
    }),
    health: () => vnet.health.all(),
    close: () => vnet.close(),
  };
}
