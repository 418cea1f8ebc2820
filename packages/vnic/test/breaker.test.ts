import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { newNodeId } from '@layer8/protocol';
import { Breaker, BreakerBoard, type BreakerState, outcomeOf } from '../src/breaker.ts';

describe('circuit breaker (mock timers)', () => {
  test('closed → open after N consecutive failures; a success in between resets the count', () => {
    const b = new Breaker({ failures: 3, coolDownMs: 1000 });
    b.record('failure');
    b.record('failure');
    b.record('success');
    b.record('failure');
    b.record('failure');
    assert.equal(b.state, 'closed');
    b.record('failure');
    assert.deepEqual([b.state, b.admits()], ['open', false]);
    b.dispose();
  });

  test('open → half-open after the cool-down; one probe only; its success closes, its failure reopens', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const moves: string[] = [];
      const b = new Breaker({ failures: 1, coolDownMs: 1000 }, (from, to) => moves.push(`${from}>${to}`));
      b.record('failure');
      mock.timers.tick(999);
      assert.deepEqual([b.state, b.admits()], ['open', false]);
      mock.timers.tick(1);
      assert.deepEqual([b.state, b.admits(), b.admits()], ['half-open', true, false], 'one probe');
      b.record('failure');
      assert.equal(b.state, 'open', 'a failed probe opens it again');
      mock.timers.tick(1000);
      assert.equal(b.admits(), true);
      b.record('neutral');
      assert.deepEqual([b.state, b.admits()], ['half-open', true], 'an aborted probe frees the slot');
      b.record('success');
      assert.deepEqual([b.state, b.admits(), b.admits()], ['closed', true, true]);
      assert.deepEqual(moves, [
        'closed>open',
        'open>half-open',
        'half-open>open',
        'open>half-open',
        'half-open>closed',
      ]);
    } finally {
      mock.timers.reset();
    }
  });

  test('the transition function refuses a move its table does not list', () => {
    const b = new Breaker();
    assert.throws(() => b.to('half-open'), /cannot move from closed to half-open/);
    assert.throws(() => b.to('closed'), /cannot move/);
  });

  test('codes: unwell ones fail, served answers succeed, aborts count for nothing', () => {
    const codes = [
      'L8_ERR_TIMEOUT',
      'L8_ERR_UNREACHABLE',
      'L8_ERR_BACKPRESSURE',
      'L8_ERR_UNAVAILABLE',
      'L8_ERR_INTERNAL',
    ];
    assert.ok(codes.every((c) => outcomeOf(c) === 'failure'));
    const served = ['L8_ERR_FORBIDDEN', 'L8_ERR_NOT_FOUND', 'L8_ERR_INVALID_ARGUMENT', 'L8_ERR_HANDLER', undefined];
    assert.ok(served.every((c) => outcomeOf(c) === 'success'));
    assert.equal(outcomeOf('L8_ERR_ABORTED'), 'neutral');
  });

  test('the board keeps one breaker per (service, area, node) and reports changes', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const [a, b] = [newNodeId(), newNodeId()];
      const seen: BreakerState[] = [];
      const board = new BreakerBoard({ failures: 2, coolDownMs: 50 }, (c) => seen.push(c.to));
      for (let i = 0; i < 2; i++) board.record('svc', 0, a, 'L8_ERR_TIMEOUT');
      board.record('svc', 0, b, 'L8_ERR_FORBIDDEN');
      board.record('svc', 1, a, 'L8_ERR_TIMEOUT');
      assert.deepEqual(
        [board.state('svc', 0, a), board.state('svc', 0, b), board.state('svc', 1, a)],
        ['open', 'closed', 'closed'],
      );
      assert.deepEqual([board.admits('svc', 0, a), board.admits('svc', 0, b)], [false, true]);
      mock.timers.tick(50);
      assert.deepEqual(seen, ['open', 'half-open']);
    } finally {
      mock.timers.reset();
    }
  });
});
