import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { l8error } from '@layer8/protocol';
import { OUTBOX_MAX, Outbox } from '../src/outbox.ts';

/** A link that refuses while `full`, and records what it takes. */
function link() {
  const sent: number[] = [];
  const state = { full: false, dropped: 0 };
  const outbox = new Outbox({
    send: (bytes) => {
      if (state.full) throw l8error('L8_ERR_BACKPRESSURE', 'queue full');
      sent.push(bytes[0] as number);
    },
    dropped: () => state.dropped++,
  });
  return { sent, state, outbox };
}

test('notifications the link refuses are kept and sent again later, in order, behind nothing newer', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { sent, state, outbox } = link();
    outbox.send(Uint8Array.of(1));
    state.full = true;
    outbox.send(Uint8Array.of(2));
    outbox.send(Uint8Array.of(3));
    state.full = false;
    outbox.send(Uint8Array.of(4)); // waits behind 2 and 3
    assert.deepEqual([sent, outbox.size], [[1], 3]);
    state.full = true;
    mock.timers.tick(5);
    mock.timers.tick(10); // still refused: the wait grows
    assert.deepEqual(sent, [1]);
    state.full = false;
    mock.timers.tick(20);
    assert.deepEqual([sent, outbox.size, state.dropped], [[1, 2, 3, 4], 0, 0]);
  } finally {
    mock.timers.reset();
  }
});

test('bounded: past the limit the oldest kept notification is dropped and counted; close drops the rest', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { sent, state, outbox } = link();
    state.full = true;
    for (let i = 0; i < OUTBOX_MAX + 3; i++) outbox.send(Uint8Array.of(i % 256));
    assert.deepEqual([outbox.size, state.dropped], [OUTBOX_MAX, 3]);
    outbox.close();
    state.full = false;
    mock.timers.tick(5000);
    assert.deepEqual([sent, outbox.size], [[], 0]);
  } finally {
    mock.timers.reset();
  }
});
