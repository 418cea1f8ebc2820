/**
 * Entry point of an agent process: runs one VNet or one VNic from the JSON config in argv[2] and answers
 * its controller's commands over IPC (process-agent.ts). Exits when the controller disconnects.
 */
import { type L8Error, toL8Error } from '@layer8/protocol';
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';
import { type AgentAnswer, type AgentCommand, type AgentConfig, PASSPHRASE_ENV } from './agent-protocol.ts';
import { startVNetAgent } from './agent-vnet.ts';
import { startVNicAgent } from './agent-vnic.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
const commands =
  config.role === 'vnet' ? await startVNetAgent(config, provider()) : await startVNicAgent(config, provider());

process.on('message', (raw) => void answer(raw as AgentCommand));
process.on('disconnect', () => process.exit(0));

function provider(): SecurityProvider {
  if (config.tls !== undefined) return new TlsProvider(config.tls);
  return new DevProvider({ passphrase: process.env[PASSPHRASE_ENV] ?? '', warn: () => undefined });
}

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
  if (process.connected) process.send?.(reply);
}
