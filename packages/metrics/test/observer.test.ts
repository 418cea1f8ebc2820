import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Action, l8error } from '@layer8/protocol';
import { devProvider, tempDir } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { type Incoming, OK_CODE, type RequestObserver, VNic } from '@layer8/vnic';

/** What an observer was told, as `side service action code`. */
type Seen = string[];

function recording(seen: Seen, fault: boolean): RequestObserver {
  const note = (side: string) => (service: string, action: number, code: string, seconds: number) => {
    assert.ok(seconds >= 0 && seconds < 5, `a duration in seconds: ${seconds}`);
    seen.push(`${side} ${service} ${action} ${code}`);
    if (fault) throw new Error('a broken observer');
  };
  return { called: note('called'), served: note('served') };
}

describe('VNicOptions.observer', () => {
  const dir = tempDir('l8-observer-');
  const socketPath = `${dir.path}/v.sock`;
  let vnet: VNet;
  before(async () => {
    vnet = new VNet({ provider: devProvider(), host: '127.0.0.1', port: 0, socketPath });
    await vnet.start();
  });
  after(async () => {
    await vnet.close();
    dir.remove();
  });

  for (const fault of [false, true]) {
    test(`sees both sides of local and remote calls${fault ? ', and its faults never reach a request' : ''}`, async () => {
      const seen: Seen = [];
      const vnic = new VNic({ provider: devProvider(), vnet: { path: socketPath }, observer: recording(seen, fault) });
      await vnic.connect();
      vnic.subscribe({ service: 'sum' }, (m) => (m.json() as number[]).reduce((a, b) => a + b, 0));
      vnic.subscribe({ service: 'late' }, async () => {
        await new Promise((r) => setImmediate(r));
        throw new Error('late failure');
      });
      vnic.subscribe({ service: 'boom' }, () => {
        throw new Error('at once');
      });
      vnic.send({ service: 'sum', node: vnic.id }, [1]); // one-way: not a request, not observed
      const local = (await vnic.request({ service: 'sum', mode: 'local' }, [1, 2], { action: Action.GET })) as Incoming;
      assert.equal(local.json(), 3);
      await assert.rejects(vnic.request({ service: 'late', node: vnic.id }, null), { code: 'L8_ERR_HANDLER' });
      await assert.rejects(vnic.request({ service: 'boom', node: vnic.id }, null), { code: 'L8_ERR_HANDLER' });
      await assert.rejects(vnic.request({ service: '' }, null), { code: 'L8_ERR_INVALID_ARGUMENT' });
      assert.deepEqual(seen, [
        `served sum ${Action.GET} ${OK_CODE}`,
        `called sum ${Action.GET} ${OK_CODE}`,
        `served late ${Action.HANDLE} L8_ERR_HANDLER`,
        `called late ${Action.HANDLE} L8_ERR_HANDLER`,
        `served boom ${Action.HANDLE} L8_ERR_HANDLER`,
        `called boom ${Action.HANDLE} L8_ERR_HANDLER`,
        `called  ${Action.HANDLE} L8_ERR_INVALID_ARGUMENT`,
      ]);
      await vnic.close();
    });
  }

  test('reports each call once, whatever path it takes: retries, a bulkhead, no breakers', async () => {
    const seen: Seen = [];
    const vnic = new VNic({
      provider: devProvider(),
      vnet: { path: socketPath },
      observer: recording(seen, false),
      breaker: false,
      bulkheads: { held: 1 },
    });
    await vnic.connect();
    let failures = 2;
    vnic.subscribe({ service: 'flaky' }, () => {
      if (failures-- > 0) throw l8error('L8_ERR_UNAVAILABLE', 'not yet', { retryable: true });
      return 'ok';
    });
    vnic.subscribe({ service: 'held' }, () => 'h');
    const at = { node: vnic.id };
    const retry = { attempts: 3, baseMs: 1 };
    assert.equal((await vnic.request({ service: 'flaky', ...at }, null, { action: Action.GET, retry })).json(), 'ok');
    assert.equal((await vnic.request({ service: 'held', ...at })).json(), 'h');
    await assert.rejects(vnic.request({ service: 'nowhere' }), { code: 'L8_ERR_NO_SERVICE' });
    assert.deepEqual(
      seen.filter((s) => s.startsWith('called')),
      [
        `called flaky ${Action.GET} ${OK_CODE}`,
        `called held ${Action.HANDLE} ${OK_CODE}`,
        `called nowhere ${Action.HANDLE} L8_ERR_NO_SERVICE`,
      ],
    );
    assert.equal(seen.filter((s) => s.startsWith('served flaky')).length, 3, 'three attempts served');
    await vnic.close();
  });
});
