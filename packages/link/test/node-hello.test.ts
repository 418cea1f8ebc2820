import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type L8Error, MAX_SERVICE_BYTES, MIN_MAX_FRAME, newNodeId, PROTOCOL_VERSION } from '@layer8/protocol';
import { formatAddress, parseHello } from '../src/index.ts';

const id = newNodeId();

/** A well-formed hello body as a peer sends it. */
function body(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    t: 'hello',
    version: PROTOCOL_VERSION,
    nodeId: id,
    vnet: id,
    alias: 'orders-1',
    role: 'vnic',
    services: [{ service: 'orders', area: 0 }],
    maxFrame: MIN_MAX_FRAME,
    heartbeatMs: 1000,
    ...extra,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as L8Error).code;
  }
  return 'none';
}

describe('parseHello', () => {
  test('keeps the known fields only', () => {
    const hello = parseHello(body({ extra: 1, services: [{ service: 'orders', area: 7, more: true }] }));
    assert.deepEqual(hello, {
      version: PROTOCOL_VERSION,
      nodeId: id,
      vnet: id,
      alias: 'orders-1',
      role: 'vnic',
      services: [{ service: 'orders', area: 7 }],
      maxFrame: MIN_MAX_FRAME,
      heartbeatMs: 1000,
    });
  });

  test('refuses another protocol version with its data', () => {
    try {
      parseHello(body({ version: PROTOCOL_VERSION + 1 }));
      assert.fail('accepted');
    } catch (e) {
      assert.equal((e as L8Error).code, 'L8_ERR_VERSION');
      assert.deepEqual((e as L8Error).data, { version: PROTOCOL_VERSION + 1, supported: PROTOCOL_VERSION });
    }
  });

  const malformed: [string, Record<string, unknown>][] = [
    ['not a hello', { t: 'proof' }],
    ['bad node id', { nodeId: 'x' }],
    ['bad vnet id', { vnet: 42 }],
    ['alias too long', { alias: 'a'.repeat(256) }],
    ['unknown role', { role: 'gateway' }],
    ['frame maximum below the floor', { maxFrame: MIN_MAX_FRAME - 1 }],
    ['fractional heartbeat', { heartbeatMs: 1.5 }],
    ['services not a list', { services: {} }],
    ['null service', { services: [null] }],
    ['empty service name', { services: [{ service: '', area: 0 }] }],
    ['service name too long', { services: [{ service: 's'.repeat(MAX_SERVICE_BYTES + 1), area: 0 }] }],
    ['area out of range', { services: [{ service: 's', area: 65536 }] }],
    ['negative area', { services: [{ service: 's', area: -1 }] }],
  ];
  for (const [what, extra] of malformed) {
    test(`refuses a hello with ${what}`, () =>
      assert.equal(
        codeOf(() => parseHello(body(extra))),
        'L8_ERR_HANDSHAKE',
      ));
  }
});

describe('formatAddress', () => {
  test('prints paths, host:port and bracketed IPv6', () => {
    assert.equal(formatAddress({ path: '/run/l8.sock' }), '/run/l8.sock');
    assert.equal(formatAddress({ host: '127.0.0.1', port: 26000 }), '127.0.0.1:26000');
    assert.equal(formatAddress({ host: '::1', port: 26000 }), '[::1]:26000');
  });
});
