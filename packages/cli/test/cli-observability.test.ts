import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import { DevProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { type CliIo, runCli } from '../src/index.ts';
import { logLevelOf } from '../src/logging.ts';
import { otlpTracesUrl } from '../src/tracing.ts';
import { EMPTY_HOME, passphraseFile, tempDir } from './cli-kit.ts';

/** A span as OTLP/HTTP JSON carries it (the fields the test reads). */
interface OtlpSpan {
  readonly traceId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: { key: string; value: { stringValue?: string } }[];
}

/** A stand-in OTLP collector: keeps the spans of every POST to /v1/traces (JSON encoding). */
async function collector(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
        const json = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const r of json.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

/** CLI I/O that captures output and stops when `stop` is called. */
function controlledIo(env: NodeJS.ProcessEnv): { io: CliIo; out: string[]; err: string[]; stop: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  let stop = (): void => undefined;
  const stopped = new Promise<void>((r) => (stop = r));
  const io = {
    env: { HOME: EMPTY_HOME, ...env },
    out: (l: string) => void out.push(l),
    warn: (l: string) => void err.push(l),
    untilStopped: () => stopped,
  };
  return { io, out, err, stop: () => stop() };
}

const attribute = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value.stringValue;

describe('observability options of the processes the CLI runs', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--otlp, OTEL_EXPORTER_OTLP_ENDPOINT and the traces endpoint give the OTLP/HTTP traces URL', () => {
    assert.equal(otlpTracesUrl(undefined, {}), undefined);
    assert.equal(otlpTracesUrl('http://c:4318', {}), 'http://c:4318/v1/traces');
    assert.equal(otlpTracesUrl('http://c:4318/v1/traces', {}), 'http://c:4318/v1/traces');
    assert.equal(
      otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318/' }),
      'http://e:4318/v1/traces',
    );
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' };
    assert.equal(otlpTracesUrl(undefined, env), 'http://t/x');
    assert.equal(otlpTracesUrl('http://flag', env), 'http://flag/v1/traces');
  });

  test('--log-level, else L8_LOG, else info; a level that is none is refused', () => {
    assert.equal(logLevelOf(undefined, {}), 'info');
    assert.equal(logLevelOf(undefined, { L8_LOG: 'DEBUG' }), 'debug');
    assert.equal(logLevelOf('warn', { L8_LOG: 'debug' }), 'warn');
    assert.throws(() => logLevelOf('loud', {}), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  test('l8 gateway start --otlp: request spans reach the collector over OTLP/HTTP; logs are JSON lines', async () => {
    const otlp = await collector();
    const pass = passphraseFile(dir, 'cli-otlp-pass');
    const provider = () => new DevProvider({ passphrase: 'cli-otlp-pass', warn: () => undefined });
    const vnet = new VNet({ provider: provider(), host: '127.0.0.1', port: 0, socketPath: `${dir}/v.sock` });
    await vnet.start();
    const vnic = new VNic({ provider: provider(), vnet: { path: `${dir}/v.sock` }, alias: 'hello' });
    await vnic.connect();
    const services = new ServiceManager(vnic, { registry: new TypeRegistry().register(EmptySchema) });
    const handlers = { get: () => ({ hello: 'world' }) };
    await services.activate({ name: 'Hello', type: EmptySchema, stateful: false, web: { actions: ['get'] }, handlers });
    const run = controlledIo({ L8_LOG: 'debug' });
    const vnetAt = `${vnet.addresses.tcp.host}:${vnet.addresses.tcp.port}`;
    const args = [
      'gateway',
      'start',
      '--port',
      '0',
      '--vnet',
      vnetAt,
      '--dev-passphrase-file',
      pass,
      '--otlp',
      otlp.url,
    ];
    const exited = runCli(args, run.io);
    try {
      const url = await until(() => run.out.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+) /)?.[1]);
      const traceId = await until(async () => {
        const r = await fetch(`${url}/l8/0/Hello`);
        return r.status === 200 ? r.headers.get('traceparent')?.split('-')[1] : undefined;
      });
      run.stop();
      assert.equal(await exited, 0, run.err.join('\n'));
      const call = otlp.spans.find((s) => s.name === 'layer8.request' && attribute(s, 'layer8.service') === 'Hello');
      assert.ok(call, `a caller span of Hello among ${JSON.stringify(otlp.spans.map((s) => s.name))}`);
      assert.equal(call.traceId, traceId, 'in the trace of the HTTP request');
      assert.equal(call.kind, 3, 'kind CLIENT');
      const lines = run.err.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      // the dev provider's warning is the CLI's own plain line; everything else is a JSON log line
      assert.equal(lines.length, run.err.filter((l) => !l.startsWith('WARNING')).length);
      assert.ok(
        lines.some((l) => l.level === 'debug'),
        'L8_LOG=debug',
      );
      assert.ok(lines.length > 0 && lines.every((l) => typeof l.level === 'string' && l.alias === 'l8-gateway'));
      assert.ok(lines.every((l) => typeof l.node === 'string' && typeof l.time === 'string'));
    } finally {
      run.stop();
      await exited;
      await services.close();
      await vnic.close();
      await vnet.close();
      otlp.server.close();
    }
  });
});

/** Polls `probe` until it gives a value (10 s at most). */
async function until<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}
