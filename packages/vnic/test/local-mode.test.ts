import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { DevProvider } from '@layer8/security';
import { VNic } from '../src/index.ts';

const provider = new DevProvider({ passphrase: 'local-mode-test', warn: () => undefined });

test('a local-mode request keeps the request contract: deadline, abort and maxPending', async () => {
  const v = new VNic({ provider, maxPending: 2 });
  const release: (() => void)[] = [];
  v.subscribe({ service: 'slow', area: 0 }, () => new Promise<string>((r) => release.push(() => r('done'))));
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: L8Error) => e.code,
    );
  assert.equal(await code(v.request({ service: 'slow', mode: 'local' }, {}, { timeoutMs: 30 })), 'L8_ERR_TIMEOUT');
  const ac = new AbortController();
  const aborted = code(v.request({ service: 'slow', mode: 'local' }, {}, { signal: ac.signal }));
  ac.abort();
  assert.equal(await aborted, 'L8_ERR_ABORTED');
  const a = v.request({ service: 'slow', mode: 'local' });
  const b = v.request({ service: 'slow', mode: 'local' });
  assert.equal(await code(v.request({ service: 'slow', mode: 'local' })), 'L8_ERR_BACKPRESSURE');
  for (const r of release) r();
  assert.deepEqual([(await a).json(), (await b).json()], ['done', 'done']);
  await v.close();
});

test('a loop of local-mode requests lets the event loop turn: the VNic’s own link is not starved', async () => {
  const v = new VNic({ provider });
  v.subscribe({ service: 'echo', area: 0 }, (m) => m.json<number>());
  let turns = 0;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  let running = true;
  setImmediate(tick);
  for (let i = 0; i < 2000; i++) assert.equal((await v.request({ service: 'echo', mode: 'local' }, i)).json(), i);
  running = false;
  assert.ok(turns >= Math.floor(2000 / v.turns.max), `the loop of 2000 calls let ${turns} turns run`);
  await v.close();
});
