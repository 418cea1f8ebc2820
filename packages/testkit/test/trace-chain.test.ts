import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type L8Error, l8error } from '@layer8/protocol';
import { VNet } from '@layer8/vnet';
import { HANDLE_SPAN, REQUEST_SPAN, traceIdOf, VNic } from '@layer8/vnic';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '../src/index.ts';

/** The nodes of the chain, the VNet each is on (0: 127.0.0.2, 1: 127.0.0.3) and what it calls. */
const NODES = [
  { name: 'client', vnet: 1, calls: 'chain-a' },
  { name: 'a', vnet: 0, calls: 'chain-b' },
  { name: 'b', vnet: 1, calls: 'chain-c' },
  { name: 'c', vnet: 0, calls: undefined },
] as const;

/** Every JSON line a pino logger wrote, parsed. */
interface Lines {
  readonly all: Record<string, unknown>[];
  write(line: string): void;
}

function lines(): Lines {
  const all: Record<string, unknown>[] = [];
  return { all, write: (line) => void all.push(JSON.parse(line) as Record<string, unknown>) };
}

/** One node of the chain: its VNic, its log lines, and its handler (the client has none). */
interface ChainNode {
  readonly vnic: VNic;
  readonly log: Lines;
}

/**
 * The chain client → a → b → c over two TLS VNets, every hop crossing from one VNet to the other; each
 * handler logs a line with the trace id of its message and calls the next through `ctx.request`; `c`
 * fails with `L8_ERR_INVALID_ARGUMENT` when asked to.
 */
async function chain(ca: TempOverlay, vnets: VNet[], tracers: BasicTracerProvider): Promise<ChainNode[]> {
  const nodes: ChainNode[] = [];
  for (const n of NODES) {
    const log = lines();
    const logger = pino({ level: 'debug', base: { alias: n.name } }, log);
    const vnic = new VNic({
      provider: ca.provider(n.name),
      alias: n.name,
      vnet: { path: vnets[n.vnet]?.addresses.unix as string },
      tracer: tracers.getTracer('layer8'),
      logger,
    });
    await vnic.connect();
    if (n.name !== 'client') {
      vnic.subscribe({ service: `chain-${n.name}` }, async (m, ctx) => {
        const body = m.json<{ fail?: boolean }>();
        logger.child({ traceId: traceIdOf(ctx.traceparent), service: ctx.service }).info(`${n.name} handles`);
        if (n.calls !== undefined) return [n.name, ...(await ctx.request({ service: n.calls }, body)).json<string[]>()];
        if (body.fail === true) throw l8error('L8_ERR_INVALID_ARGUMENT', 'c was asked to fail');
        return [n.name];
      });
    }
    nodes.push({ vnic, log });
  }
  await waitFor(() => nodes.every((n, i) => i === 0 || n.vnic.health.all().length >= NODES.length + vnets.length), {
    what: 'every node sees the chain',
  });
  await waitFor(
    () =>
      NODES.every(
        (n, i) =>
          n.calls === undefined ||
          nodes[i]?.vnic.health.all().some((r) => r.services.some((s) => s.service === n.calls)),
      ),
    { what: 'every caller sees its next service' },
  );
  return nodes;
}

const attr = (s: ReadableSpan, name: string) => s.attributes[name];

describe('a request chain client → a → b → c across two TLS VNets', () => {
  const dir = tempDir('l8-trace-');
  const exporter = new InMemorySpanExporter();
  const tracers = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let ca: TempOverlay;
  const vnets: VNet[] = [];
  let nodes: ChainNode[] = [];

  before(async () => {
    ca = await tempOverlay(
      NODES.map((n) => n.name),
      { vnets: ['v0', 'v1'] },
    );
    for (let i = 0; i < 2; i++) {
      const v = new VNet({
        provider: ca.provider(`v${i}`),
        host: hostAddress(i),
        port: 0,
        socketPath: `${dir.path}/v${i}.sock`,
        peers: vnets.map((n) => n.addresses.tcp),
        alias: `v${i}`,
      });
      await v.start();
      vnets.push(v);
    }
    nodes = await chain(ca, vnets, tracers);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.vnic.close()));
    await Promise.all(vnets.map((v) => v.close()));
    await tracers.shutdown();
    dir.remove();
    ca.remove();
  });

  /** Runs the chain once with the spans and log lines of earlier runs cleared. */
  async function run(body: object): Promise<string[] | L8Error> {
    exporter.reset();
    for (const n of nodes) n.log.all.length = 0;
    const client = nodes[0]?.vnic as VNic;
    return client.request({ service: 'chain-a' }, body, { timeoutMs: 10_000 }).then(
      (r) => r.json<string[]>(),
      (e: L8Error) => e,
    );
  }

  test('one trace: a caller span per hop and a handler span per node, each the child of the one before', async () => {
    assert.deepEqual(await run({}), ['a', 'b', 'c']);
    const spans = exporter.getFinishedSpans();
    assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1, 'one trace id');
    const byKind = (kind: SpanKind, name: string) => spans.filter((s) => s.kind === kind && s.name === name);
    assert.equal(byKind(SpanKind.CLIENT, REQUEST_SPAN).length, 3, 'client, a and b call');
    assert.equal(byKind(SpanKind.SERVER, HANDLE_SPAN).length, 3, 'a, b and c handle');
    const order = ['chain-a', 'chain-b', 'chain-c'];
    let parent: string | undefined;
    for (const service of order) {
      const call = byKind(SpanKind.CLIENT, REQUEST_SPAN).find((s) => attr(s, 'layer8.service') === service);
      const handle = byKind(SpanKind.SERVER, HANDLE_SPAN).find((s) => attr(s, 'layer8.service') === service);
      assert.ok(call && handle, `spans of ${service}`);
      assert.equal(call.parentSpanContext?.spanId, parent, `the call to ${service} is a child of the handler before`);
      assert.equal(
        handle.parentSpanContext?.spanId,
        call.spanContext().spanId,
        `${service}'s handler is the call's child`,
      );
      assert.equal(attr(handle, 'layer8.action'), 'HANDLE');
      assert.equal(attr(handle, 'layer8.area'), 0);
      assert.equal(typeof attr(handle, 'layer8.node'), 'string');
      assert.equal(attr(call, 'layer8.node'), nodes[order.indexOf(service) + 1]?.vnic.id, 'the peer that answered');
      assert.equal(handle.status.code, SpanStatusCode.UNSET);
      parent = handle.spanContext().spanId;
    }
  });

  test('a failing hop: its code on every span up the chain, status ERROR', async () => {
    const failed = await run({ fail: true });
    assert.equal((failed as L8Error).code, 'L8_ERR_INVALID_ARGUMENT');
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 6);
    assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);
    for (const s of spans) {
      assert.equal(attr(s, 'layer8.code'), 'L8_ERR_INVALID_ARGUMENT', `${s.name} ${attr(s, 'layer8.service')}`);
      assert.equal(s.status.code, SpanStatusCode.ERROR);
    }
  });

  test('every log line of the chain, at every node, carries the same traceId: the trace’s', async () => {
    for (const body of [{}, { fail: true }]) {
      await run(body);
      const traceId = exporter.getFinishedSpans()[0]?.spanContext().traceId;
      const chainLines = nodes.flatMap((n) => n.log.all);
      // a, b and c each log the request; failing, a, b and c log the handler failure and client, a and b the request's
      assert.equal(chainLines.length, 'fail' in body ? 9 : 3, JSON.stringify(chainLines));
      for (const line of chainLines) assert.equal(line.traceId, traceId, JSON.stringify(line));
      if ('fail' in body) {
        const failures = chainLines.filter((l) => l.code === 'L8_ERR_INVALID_ARGUMENT');
        assert.equal(failures.length, 6);
        assert.ok(failures.every((l) => l.level === 20 && typeof l.node === 'string' && l.alias !== undefined));
      }
    }
  });
});
