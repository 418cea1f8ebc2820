import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { l8error } from '@layer8/protocol';
import type { RequestOptions, VNic } from '@layer8/vnic';
import { ServiceClient } from '../src/index.ts';
import { registry } from './kit.ts';

/** A VNic stand-in that records the options of each request and fails it. */
function recorder() {
  const seen: (RequestOptions | undefined)[] = [];
  const vnic = {
    request: (_t: unknown, _p: unknown, o?: RequestOptions) => {
      seen.push(o);
      return Promise.reject(l8error('L8_ERR_UNAVAILABLE', 'down'));
    },
    health: { instances: () => [] },
  } as unknown as VNic;
  return { vnic, seen };
}

test('the client facade passes a retry policy per call and per service (withRetry), the call winning', async () => {
  const { vnic, seen } = recorder();
  const plain = new ServiceClient(vnic, registry(), { name: 'Orders', area: 0, type: OrderSchema });
  const retried = plain.withRetry({ attempts: 4 });
  await assert.rejects(plain.get('select * from Order'), { code: 'L8_ERR_UNAVAILABLE' });
  await assert.rejects(retried.get('select * from Order'), { code: 'L8_ERR_UNAVAILABLE' });
  await assert.rejects(retried.delete(1, { retry: false }), { code: 'L8_ERR_UNAVAILABLE' });
  await assert.rejects(plain.delete(2, { retry: { attempts: 2 } }), { code: 'L8_ERR_UNAVAILABLE' });
  assert.deepEqual(
    seen.map((o) => o?.retry),
    [undefined, { attempts: 4 }, false, { attempts: 2 }],
  );
});
