import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BackpressureError,
  HandlerError,
  type L8Error,
  l8error,
  newNodeId,
  RoutingError,
  TimeoutError,
} from '@layer8/protocol';
import { devProvider, startTopology, type Topology, waitFor } from '@layer8/testkit';
import { VNic } from '@layer8/vnic';

describe('typed failures complete pending requests at once', () => {
  let topo: Topology;
  let a: VNic;
  let b: VNic;

  before(async () => {
    topo = await startTopology({ vnets: 2, vnicsPerVnet: 1, provider: () => devProvider() });
    [a, b] = [topo.vnics[0]![0]!, topo.vnics[1]![0]!];
    b.subscribe({ service: 'fail', area: 0 }, () => {
      throw new Error('boom');
    });
    b.subscribe({ service: 'coded', area: 0 }, async () => {
      throw l8error('L8_ERR_FORBIDDEN', 'not yours', { data: { who: 'x' } });
    });
    b.subscribe({ service: 'never', area: 0 }, () => new Promise(() => undefined));
    b.subscribe({ service: 'progress', area: 0 }, (_m, ctx) => {
      ctx.progress({ step: 1 });
      ctx.progress({ step: 2 });
      return { done: true };
    });
    await waitFor(() => a.health.instances('progress', 0).length === 1);
  });

  after(() => topo.close());

  test('no instance of the service: L8_ERR_NO_SERVICE, synchronously routed', async () => {
    await assert.rejects(
      a.request({ service: 'nobody' }),
      (e: L8Error) => e instanceof RoutingError && e.code === 'L8_ERR_NO_SERVICE',
    );
  });

  test('unknown node: the VNet answers L8_ERR_UNREACHABLE', async () => {
    await assert.rejects(
      a.request({ node: newNodeId(), service: 'x' }),
      (e: L8Error) => e instanceof RoutingError && e.code === 'L8_ERR_UNREACHABLE',
    );
  });

  test('a node without the handler answers L8_ERR_NO_SERVICE', async () => {
    await assert.rejects(
      a.request({ node: b.id, service: 'not-here' }),
      (e: L8Error) => e.code === 'L8_ERR_NO_SERVICE',
    );
  });

  test('a handler that throws: L8_ERR_HANDLER rebuilt as HandlerError with its message', async () => {
    await assert.rejects(
      a.request({ service: 'fail' }),
      (e: L8Error) => e instanceof HandlerError && e.code === 'L8_ERR_HANDLER' && e.message === 'boom',
    );
  });

  test('a handler that throws an L8Error: same code, class and data on the caller side', async () => {
    await assert.rejects(
      a.request({ service: 'coded' }),
      (e: L8Error) =>
        e.code === 'L8_ERR_FORBIDDEN' &&
        e.constructor.name === 'SecurityError' &&
        (e.data as { who: string }).who === 'x',
    );
  });

  test('deadline: L8_ERR_TIMEOUT', async () => {
    await assert.rejects(
      a.request({ service: 'never' }, undefined, { timeoutMs: 50 }),
      (e: L8Error) => e instanceof TimeoutError && e.code === 'L8_ERR_TIMEOUT',
    );
    assert.equal(a.inFlight, 0);
  });

  test('abort signal: L8_ERR_ABORTED, before and during the request', async () => {
    await assert.rejects(
      a.request({ service: 'never' }, undefined, { signal: AbortSignal.abort() }),
      (e: L8Error) => e.code === 'L8_ERR_ABORTED',
    );
    const ac = new AbortController();
    const p = a.request({ service: 'never' }, undefined, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: L8Error) => e.code === 'L8_ERR_ABORTED');
  });

  test('progress replies arrive before the final reply and do not complete it', async () => {
    const steps: number[] = [];
    const r = await a.request({ service: 'progress' }, undefined, {
      onProgress: (p) => steps.push(p.json<{ step: number }>().step),
    });
    assert.deepEqual(steps, [1, 2]);
    assert.deepEqual(r.json(), { done: true });
  });

  test('a progress listener that throws does not break the link or the request', async () => {
    const r = await a.request({ service: 'progress' }, undefined, {
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    assert.deepEqual(r.json(), { done: true });
    assert.equal(a.state, 'connected');
  });

  test('leader mode without an election: L8_ERR_NO_LEADER; with a resolver it routes', async () => {
    await assert.rejects(
      a.request({ service: 'progress', mode: 'leader' }),
      (e: L8Error) => e.code === 'L8_ERR_NO_LEADER',
    );
    a.setLeaderResolver(() => b.id);
    const r = await a.request({ service: 'progress', mode: 'leader' });
    assert.deepEqual(r.json(), { done: true });
    a.setLeaderResolver(undefined);
  });

  test('too many requests in flight: L8_ERR_BACKPRESSURE, others unaffected', async () => {
    const small = new VNic({
      provider: devProvider(),
      vnet: { path: topo.vnets[0]!.addresses.unix as string },
      maxPending: 2,
    });
    await small.connect();
    try {
      const held = [
        small.request({ service: 'never' }, undefined, { timeoutMs: 200 }),
        small.request({ service: 'never' }, undefined, { timeoutMs: 200 }),
      ];
      await assert.rejects(
        small.request({ service: 'never' }),
        (e: L8Error) => e instanceof BackpressureError && e.retryable,
      );
      await Promise.allSettled(held);
      const r = await small.request({ service: 'progress' });
      assert.deepEqual(r.json(), { done: true });
    } finally {
      await small.close();
    }
  });

  test('a closed VNic refuses calls with L8_ERR_CLOSED', async () => {
    const n = new VNic({ provider: devProvider(), vnet: { path: topo.vnets[0]!.addresses.unix as string } });
    await n.connect();
    const p = n.request({ service: 'never' });
    await n.close();
    await assert.rejects(p, (e: L8Error) => e.code === 'L8_ERR_CLOSED');
    await assert.rejects(n.request({ node: b.id, service: 'progress' }), (e: L8Error) => e.code === 'L8_ERR_CLOSED');
    assert.throws(
      () => n.multicast({ service: 'x', area: 0 }),
      (e: L8Error) => e.code === 'L8_ERR_CLOSED',
    );
  });
});

test('a request right after subscribing in the same process finds the new handler', async () => {
  const topo = await startTopology({ vnets: 1, vnicsPerVnet: 1, provider: () => devProvider() });
  try {
    const n = topo.vnics[0]![0]!;
    n.subscribe({ service: 'fresh', area: 0 }, () => 'here');
    assert.equal((await n.request({ service: 'fresh' })).json(), 'here');
  } finally {
    await topo.close();
  }
});
