import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DevProvider } from '@layer8/security';
import { INVALID_SPAN_CONTEXT, type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { type Handler, VNic, type VNicLogger } from '../src/index.ts';

const provider = new DevProvider({ passphrase: 'tracing-off-test', warn: () => undefined });

/** Counts every call a tracer (or provider) gets; its spans do nothing. */
function spyTracer(calls: string[]): Tracer & TracerProvider {
  const span = new Proxy({} as Span, {
    get: (_t, name) => (name === 'spanContext' ? () => INVALID_SPAN_CONTEXT : () => span),
  });
  const called = <T>(name: string, value: T): T => {
    calls.push(name);
    return value;
  };
  return {
    getTracer: () => called('getTracer', spyTracer(calls)),
    startSpan: () => called('startSpan', span),
    startActiveSpan: (() => called('startActiveSpan', undefined)) as Tracer['startActiveSpan'],
  };
}

/** A logger that counts its lines and says whether debug is on. */
function countingLogger(debug: boolean, lines: string[]): VNicLogger {
  const log = (level: string) => (_o: object, m: string) => void lines.push(`${level} ${m}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), isLevelEnabled: () => debug };
}

const ok: Handler = (m) => m.json<number>();
const fails: Handler = () => {
  throw new Error('fails on purpose');
};

/** Local-mode requests through the whole hooked path: subscribe's handler wrapper and request's. */
async function exercise(v: VNic): Promise<void> {
  v.subscribe({ service: 'ok' }, ok);
  v.subscribe({ service: 'fails' }, fails);
  for (let i = 0; i < 20; i++) assert.equal((await v.request({ service: 'ok', mode: 'local' }, i)).json(), i);
  await assert.rejects(v.request({ service: 'fails', mode: 'local' }), { code: 'L8_ERR_HANDLER' });
}

after(() => trace.disable());

test('with `tracer: false`, a VNic calls no tracer, not even a registered global one, and logs no per-request line', async () => {
  const calls: string[] = [];
  assert.ok(trace.setGlobalTracerProvider(spyTracer(calls)), 'the spy is the global provider');
  const lines: string[] = [];
  const v = new VNic({ provider, tracer: false, logger: countingLogger(false, lines) });
  await exercise(v);
  await v.close();
  trace.disable();
  assert.deepEqual(calls, []);
  assert.deepEqual(
    lines.filter((l) => l.includes('failed')),
    [],
  );
});

test('by default, a VNic traces to the global SDK only while one is registered', async () => {
  const calls: string[] = [];
  const v = new VNic({ provider });
  await exercise(v); // no SDK registered: untraced
  assert.ok(trace.setGlobalTracerProvider(spyTracer(calls)), 'the spy is the global provider');
  await exercise(v); // registered later: traced from now on
  const traced = calls.filter((c) => c === 'startSpan').length;
  trace.disable();
  await exercise(v); // unregistered: untraced again
  await v.close();
  // 21 requests while the SDK was registered, each a caller and a handler span; the tracer asked for once
  // per wrapped path (the requests, and each of the two handlers), not per request
  assert.equal(traced, 42);
  assert.equal(calls.filter((c) => c === 'startSpan').length, 42);
  assert.equal(calls.filter((c) => c === 'getTracer').length, 3);
});

test('with a tracer and a debug logger, every request and handler run is wrapped (the spy sees them)', async () => {
  const calls: string[] = [];
  const lines: string[] = [];
  const v = new VNic({ provider, tracer: spyTracer(calls), logger: countingLogger(true, lines) });
  await exercise(v);
  await v.close();
  // 21 requests, each a caller and a handler span
  assert.equal(calls.filter((c) => c === 'startSpan').length, 42);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('debug') && l.includes('failed:')).map((l) => l.split(':')[0]),
    ['debug handler failed', 'debug request failed'],
  );
});

test('a request whose caller did not sample its trace makes no span on either side; its traceparent travels on', async () => {
  const calls: string[] = [];
  const v = new VNic({ provider, tracer: spyTracer(calls) });
  const unsampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
  const seen: (string | undefined)[] = [];
  v.subscribe({ service: 'echo' }, (_m, ctx) => {
    seen.push(ctx.traceparent);
    return 1;
  });
  await v.request({ service: 'echo', mode: 'local' }, 0, { traceparent: unsampled });
  await v.request({ service: 'echo', mode: 'local' }, 0, { traceparent: unsampled.replace(/00$/, '01') });
  await v.close();
  assert.equal(seen[0], unsampled, 'the handler sees the caller traceparent, unchanged');
  assert.equal(
    calls.filter((c) => c === 'startSpan').length,
    2,
    'only the sampled request made spans (caller and handler)',
  );
});
