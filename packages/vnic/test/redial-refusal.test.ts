import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { encodeMessage, Kind, ZERO_NODE_ID } from '@layer8/protocol';
import { VNic } from '../src/vnic.ts';
import { FakeVNet, testProvider, until } from './fake-vnet.ts';

/**
 * Found by `l8 chaos fuzz` (docs/reliability.md, "Frame fuzzer"): whatever answered a VNic's redial
 * could stop it for good by sending bytes that look like TLS or a FAIL frame with a security code before
 * proving anything, since the VNic took every security refusal at link setup as final. Only the first
 * connect (a misconfiguration, told at once: fatal-close.test.ts) and the `close` message of an
 * established link are final now; a refusal on a reconnect is retried.
 */

/** What an impostor answers a dial with: bytes no member would send, each before any proof. */
const IMPOSTOR_ANSWERS: readonly Buffer[] = [
  Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c]),
  ...['L8_ERR_AUTH', 'L8_ERR_CERT_REVOKED', 'L8_ERR_CERT_EXPIRED', 'L8_ERR_FORBIDDEN', 'L8_ERR_LIMIT'].map((code) =>
    encodeMessage({ kind: Kind.FAIL, source: ZERO_NODE_ID, error: { code, message: 'forged refusal' } }),
  ),
];

/**
 * The VNic's way to its VNet: passes each connection on to the real VNet, or, while `impostor` is set,
 * answers it with the next of {@link IMPOSTOR_ANSWERS} and closes it.
 */
class Front {
  impostor = false;
  answered = 0;
  readonly #server = createServer((s) => this.#connection(s));
  readonly #piped: Socket[] = [];
  readonly #to: { host: string; port: number };

  constructor(to: { host: string; port: number }) {
    this.#to = to;
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return { host: '127.0.0.1', port: (this.#server.address() as { port: number }).port };
  }

  /** Cuts every connection passed on so far (the VNet seems gone). */
  cut(): void {
    for (const s of this.#piped.splice(0)) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.#server.close(() => r()));
  }

  #connection(socket: Socket): void {
    socket.on('error', () => undefined);
    if (!this.impostor) {
      const vnet = connect(this.#to).on('error', () => socket.destroy());
      socket.pipe(vnet).pipe(socket);
      this.#piped.push(socket, vnet);
      return;
    }
    // reads what the VNic sends (its refusal), so that both ends see the other close
    socket.resume().end(IMPOSTOR_ANSWERS[this.answered++ % IMPOSTOR_ANSWERS.length] as Buffer);
  }
}

describe('a VNic that was connected is not stopped by whatever answers its redial', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  test('TLS-looking bytes and forged security refusals before any proof are retried; the real VNet gets it back', async () => {
    const vnet = new FakeVNet();
    const front = new Front(await vnet.start());
    const address = await front.start();
    const fatal: string[] = [];
    const vnic = new VNic({
      provider: testProvider(),
      vnet: address,
      reconnect: { firstMs: 5, maxMs: 10 },
      heartbeatMs: 60_000,
      onFatal: (e) => fatal.push(e.code),
    });
    closers.push(
      () => vnet.close(),
      () => front.close(),
      () => vnic.close(),
    );
    await vnic.connect();
    front.impostor = true;
    front.cut();
    await until(
      () => front.answered >= 2 * IMPOSTOR_ANSWERS.length,
      10_000,
      'the VNic to redial past every forged answer',
    );
    assert.deepEqual(fatal, []);
    assert.equal(vnic.closedWith, undefined);
    assert.notEqual(vnic.state, 'closed');
    front.impostor = false;
    await until(() => vnet.linksOf(vnic.id) === 2 && vnic.state === 'connected', 10_000, 'the VNic back on its VNet');
  });
});
