import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { parseSamples, vnetStatsOf } from '../src/index.ts';

/** Reading a running VNet's counters from its Prometheus endpoint (`l8 chaos fuzz --vnet … --metrics URL`). */
describe('the counters of a running VNet, from its /metrics', () => {
  const text = [
    '# HELP layer8_vnet_drops_total Frames, links and announcements the VNet refused, by reason.',
    '# TYPE layer8_vnet_drops_total counter',
    'layer8_vnet_drops_total{reason="malformed"} 12',
    'layer8_vnet_drops_total{reason="no_service"} 3',
    'layer8_vnet_drops_total{reason="one_way_failures"} 0',
    'layer8_vnet_handshakes_total{result="refused",code="L8_ERR_AUTH"} 4',
    'layer8_vnet_handshakes_total{result="accepted",code="OK"} 9',
    'layer8_vnet_frames_total{direction="in",link_kind="local"} 100',
    'layer8_vnet_frames_total{direction="in",link_kind="peer"} 20',
    'layer8_vnet_frames_total{direction="out",link_kind="local"} 70',
    'layer8_vnet_info{id="a\\"b",alias="x"} 1',
  ].join('\n');

  test('drops by the field they count, refused link setups by code, frames in; memory is not there', () => {
    const s = vnetStatsOf(parseSamples(text));
    assert.deepEqual(s.drops, { malformed: 12, noService: 3, oneWayFailures: 0 });
    assert.deepEqual(s.refusedSetups, { L8_ERR_AUTH: 4 });
    assert.equal(s.framesIn, 120);
    assert.equal(s.rss, null);
    assert.equal(s.heapUsed, null);
  });

  test('labels with escaped quotes are read; an endpoint that is not a VNet’s is L8_ERR_DECODE', () => {
    assert.deepEqual(parseSamples(text).at(-1)?.labels, { id: 'a"b', alias: 'x' });
    assert.throws(
      () => vnetStatsOf(parseSamples('process_cpu_seconds_total 3\n')),
      (e: L8Error) => e.code === 'L8_ERR_DECODE',
    );
  });
});
