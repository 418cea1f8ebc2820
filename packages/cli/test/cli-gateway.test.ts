import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import { DevProvider } from '@layer8/security';
import { ServiceManager, WEB_SERVICE } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import { children, l8, passphraseFile, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

describe('l8 gateway start', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('joins the overlay, prints its URL, publishes a web-exposed service and stops on SIGTERM', async () => {
    const pass = passphraseFile(dir, 'cli-gateway-pass');
    const v = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.4', '--port', '0', '--no-socket', '--dev-passphrase-file', pass],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    const vnet = `${v.match[1]}:${v.match[2]}`;
    const vnic = new VNic({
      provider: new DevProvider({ passphrase: 'cli-gateway-pass', warn: () => undefined }),
      vnet,
    });
    await vnic.connect();
    const services = new ServiceManager(vnic, { registry: new TypeRegistry().register(EmptySchema) });
    await services.activate({
      name: 'Hello',
      type: EmptySchema,
      stateful: false,
      web: { actions: ['get'] },
      handlers: { get: () => ({ hello: 'world' }) },
    });
    const args = ['gateway', 'start', '--port', '0', '--vnet', vnet, '--dev-passphrase-file', pass];
    const g = await spawnL8(args, /listening on (http:\/\/127\.0\.0\.1:\d+) /);
    const url = g.match[1] as string;
    const seen = async () => {
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`${url}/l8/0/Hello`);
        if (r.status === 200) return r.json();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`Hello was not published at ${url}: ${g.err()}`);
    };
    assert.deepEqual(await seen(), { hello: 'world' });
    assert.equal((await fetch(`${url}/openapi.json`)).status, 200);
    assert.ok(vnic.health.instances(WEB_SERVICE, 0).length === 1);
    const exited = new Promise<number | null>((resolve) => g.child.once('exit', resolve));
    let out = '';
    g.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    g.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /l8 gateway stopped/);
    await services.close();
    await vnic.close();
    await stop(v.child);
  });

  test('bad numbers and unreachable VNets are coded errors', async () => {
    const bad = await l8([
      'gateway',
      'start',
      '--port',
      'x',
      '--dev',
      '--vnet',
      '127.0.0.1:1',
      '--connect-timeout',
      '300',
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^l8: L8_ERR_/m);
    const zero = await l8(['gateway', 'start', '--connect-timeout', '0', '--dev']);
    assert.match(zero.err, /L8_ERR_INVALID_ARGUMENT: --connect-timeout must be a whole number/);
  });
});
