import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseLocalControl, parsePeerControl, parseVNetControl } from '../src/index.ts';

const ID = '11111111-1111-4111-8111-111111111111';
const record = {
  id: ID,
  vnet: ID,
  alias: 'v',
  role: 'vnet',
  services: [],
  status: 'up',
  startedAt: 1,
  updatedAt: 1,
};

describe('control message schemas', () => {
  test('accept what each kind of link may send, and nothing else', () => {
    assert.ok(parseLocalControl({ t: 'services', services: [{ service: 'orders', area: 3 }] }));
    assert.ok(parseLocalControl({ t: 'hb' }));
    assert.equal(parseLocalControl({ t: 'health', delta: {} }), undefined, 'a VNic may not send health');
    assert.equal(parseLocalControl({ t: 'services', services: [null] }), undefined);
    assert.equal(parseLocalControl({ t: 'services', services: [{ service: 'x', area: 70_000 }] }), undefined);
    assert.equal(parseLocalControl({ t: 'stats', stats: { framesIn: -1 } }), undefined);
    const delta = { vnet: ID, seq: 1, full: true, upsert: [record], remove: [] };
    assert.deepEqual(parsePeerControl({ t: 'health', delta, extra: 1 }), { t: 'health', delta });
    assert.equal(parsePeerControl({ t: 'services', services: [] }), undefined, 'a peer may not announce services');
    assert.deepEqual(parsePeerControl({ t: 'flow', node: ID, paused: true, x: 1 }), {
      t: 'flow',
      node: ID,
      paused: true,
    });
    assert.equal(parsePeerControl({ t: 'flow', node: 'not-a-node', paused: true }), undefined);
    assert.equal(parsePeerControl({ t: 'flow', node: ID, paused: 'yes' }), undefined);
    assert.equal(parseLocalControl({ t: 'flow', node: ID, paused: true }), undefined, 'only a peer VNet sends flow');
    assert.ok(parseVNetControl({ t: 'close', error: { code: 'L8_ERR_LIMIT', message: 'm' } }));
    assert.equal(parseVNetControl({ t: 'close' }), undefined);
  });

  test('never throw, and return only objects with a known type, on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const parse of [parseLocalControl, parsePeerControl, parseVNetControl]) {
          const r = parse(v) as { t?: unknown } | undefined;
          if (r !== undefined)
            assert.ok(['hb', 'resync', 'services', 'stats', 'health', 'drop', 'close', 'flow'].includes(String(r.t)));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('strip unknown fields from stored records', () => {
    const delta = { vnet: ID, seq: 1, full: true, upsert: [{ ...record, evil: 'x' }], remove: [] };
    const r = parsePeerControl({ t: 'health', delta });
    assert.ok(r?.t === 'health');
    assert.equal('evil' in (r.delta.upsert[0] as object), false);
  });
});
