import { create } from '@bufbuild/protobuf';
import { toL8Error } from '@layer8/protocol';
import { ServiceManager } from '@layer8/services';
import type { VNic } from '@layer8/vnic';
import type { AgentCommands } from './agent-vnet.ts';
import { RecordSchema, recordRegistry, STORE_SERVICE } from './store-record.ts';

/** How one write to the chaos store ended: acknowledged, or refused with a code (and the storage's reason). */
export type StoreWrite =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly reason?: string };

/** What a read-back found: the ids whose record is there, and those that could not be read, by code. */
export interface StoreRead {
  readonly found: readonly string[];
  readonly failed: Readonly<Record<string, number>>;
}

/**
 * The chaos store of a VNic agent (`--disk-full`, docs/reliability.md): the agent given a data directory
 * serves {@link STORE_SERVICE}, a stateful service of `@layer8/services` on SQLite there; every VNic
 * agent can write to it and read it back over the overlay (`store.write`, `store.read`).
 */
export async function storeCommands(vnic: VNic, dataDir: string | undefined): Promise<AgentCommands> {
  const services = new ServiceManager(vnic, { registry: recordRegistry() });
  if (dataDir !== undefined)
    await services.activate({ name: STORE_SERVICE, type: RecordSchema, storage: { sqlite: dataDir } });
  const client = services.client(STORE_SERVICE, 0, RecordSchema);
  return {
    'store.write': async ({ id, timeoutMs }): Promise<StoreWrite> => {
      try {
        await client.post(create(RecordSchema, { id: String(id) } as never), { timeoutMs: Number(timeoutMs) });
        return { ok: true };
      } catch (err) {
        const e = toL8Error(err);
        const reason = (e.data as { reason?: unknown } | undefined)?.reason;
        return { ok: false, code: e.code, ...(typeof reason === 'string' ? { reason } : {}) };
      }
    },
    'store.read': async ({ ids, timeoutMs }): Promise<StoreRead> => {
      const found: string[] = [];
      const failed: Record<string, number> = {};
      for (const id of ids as string[]) {
        try {
          await client.getByKey(id, { timeoutMs: Number(timeoutMs) });
          found.push(id);
        } catch (err) {
          const code = toL8Error(err).code;
          failed[code] = (failed[code] ?? 0) + 1;
        }
      }
      return { found, failed };
    },
  };
}

/** The store commands of an agent that serves no store: its client is made on the first command. */
export function storeClientCommands(vnic: VNic): AgentCommands {
  let commands: Promise<AgentCommands> | undefined;
  const run = async (name: string, args: Record<string, unknown>): Promise<unknown> => {
    commands ??= storeCommands(vnic, undefined);
    return (await commands)[name]?.(args);
  };
  return {
    'store.write': (args) => run('store.write', args),
    'store.read': (args) => run('store.read', args),
  };
}
