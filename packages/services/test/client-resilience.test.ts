import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema } from '@layer8/fixtures';
import type { L8Error } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import type { ServiceLevelAgreement } from '../src/index.ts';
import { type Node, type Overlay, overlay } from './kit.ts';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );
const order = (id: number, city = 'Paris'): Order => create(OrderSchema, { id: BigInt(id), number: `A-${id}`, city });

/** A gate that holds the writes whose city is `hold` until `release()`. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const held = { count: 0 };
  const post = async (item: Order): Promise<undefined> => {
    if (item.city !== 'hold') return undefined;
    held.count++;
    await opened;
    return undefined;
  };
  return { post, held, release: () => open() };
}

describe('resilience policies of the services facade: SLA concurrency, client bulkhead and hedged reads', () => {
  let o: Overlay;
  let a: Node;
  let b: Node;
  let c: Node;
  before(async () => {
    o = await overlay(1, 3);
    [a, b, c] = o.nodes as [Node, Node, Node];
  });
  after(() => o.close());

  async function activate(n: Node, sla: ServiceLevelAgreement<typeof OrderSchema>, instances = 1): Promise<void> {
    await n.services.activate(sla);
    const serving = (r: { services: readonly { service: string; state?: string }[] }) =>
      r.services.some((s) => s.service === sla.name && s.state !== 'recovering');
    const seen = () => c.vnic.health.instances(sla.name, 0).filter(serving).length;
    await waitFor(() => seen() === instances, { what: `${sla.name} serving in c’s health` });
  }

  test('an SLA concurrency limit refuses what runs beyond it at the instance', async () => {
    const g = gate();
    await activate(a, { name: 'Held', type: OrderSchema, concurrency: 1, before: { post: g.post } });
    const client = c.services.client('Held', 0, OrderSchema);
    const first = codeOf(client.post(order(1, 'hold')));
    await waitFor(() => g.held.count === 1, { what: 'the first write held' });
    assert.deepEqual(a.vnic.handlerLimit('Held'), { limit: 1, running: 1, waiting: 0 });
    assert.equal(await codeOf(client.post(order(2))), 'L8_ERR_BACKPRESSURE');
    assert.equal(a.vnic.drops.limited, 1);
    g.release();
    assert.equal(await first, 'resolved');
  });

  test('a client bulkhead refuses at the caller; a call may override it', async () => {
    const g = gate();
    await activate(a, { name: 'Gated', type: OrderSchema, before: { post: g.post } });
    const client = c.services.client('Gated', 0, OrderSchema).withBulkhead(1);
    const first = codeOf(client.post(order(1, 'hold')));
    await waitFor(() => g.held.count === 1, { what: 'the first write held' });
    assert.equal(await codeOf(client.post(order(2))), 'L8_ERR_BACKPRESSURE');
    assert.deepEqual(c.vnic.bulkhead('Gated'), { running: 1, waiting: 0 });
    assert.equal(await codeOf(client.post(order(3), { bulkhead: false })), 'resolved', 'the call’s own bound wins');
    g.release();
    assert.equal(await first, 'resolved');
    assert.equal(a.services.services().find((s) => s.name === 'Gated')?.counters.items, 2);
  });

  test('a client with a hedge policy gets its GETs answered while one instance stalls', async () => {
    const stalled = { gets: 0 };
    await activate(a, { name: 'Reads', type: OrderSchema });
    await c.services.client('Reads', 0, OrderSchema).post(order(7));
    const hang = (): Promise<never> => {
      stalled.gets++;
      return new Promise<never>(() => undefined);
    };
    // b serves the same name without state: its GETs never answer
    await activate(
      b,
      { name: 'Reads', type: OrderSchema, stateful: false, handlerTimeoutMs: 300, handlers: { get: hang } },
      2,
    );
    const reads = c.services.client('Reads', 0, OrderSchema).withHedge({ delayMs: 30 });
    for (let i = 0; i < 6; i++) assert.equal((await reads.getByKey(7, { timeoutMs: 2000 })).number, 'A-7');
    assert.ok(stalled.gets >= 2, `${stalled.gets} reads went to the stalled instance first`);
  });
});
