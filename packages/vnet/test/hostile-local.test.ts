import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { defaultSocketPath, VNet } from '@layer8/vnet';
import { VNET_SOCKET, VNic } from '@layer8/vnic';

/** Another local user, as far as file ownership goes (tests run as root). */
const OTHER_UID = 65534;

const dirs: { remove(): void }[] = [];
after(() => {
  for (const d of dirs) d.remove();
});

function scratch(): string {
  const d = tempDir('l8-local-');
  dirs.push(d);
  return d.path;
}

function vnetAt(socketPath: string): VNet {
  return new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath });
}

/** Starts a VNet that must refuse `socketPath`; returns the error's reason. */
async function refusal(socketPath: string, code = 'L8_ERR_INSECURE'): Promise<unknown> {
  const vnet = vnetAt(socketPath);
  try {
    const err = await vnet.start().then(
      () => assert.fail(`the VNet accepted ${socketPath}`),
      (e: L8Error) => e,
    );
    assert.equal(err.code, code, err.message);
    return (err.data as { reason?: string } | undefined)?.reason;
  } finally {
    await vnet.close();
  }
}

function listenRaw(path: string): Promise<{ server: Server; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, accepted: () => n })));
}

describe('the VNet socket path resists other local users', () => {
  test('a dangling symlink at the socket path is refused with a code, not followed and not removed', async () => {
    const dir = scratch();
    const sock = join(dir, 'v.sock');
    const target = join(dir, 'planted-target');
    symlinkSync(target, sock);
    assert.equal(await refusal(sock), 'symlink');
    assert.ok(lstatSync(sock).isSymbolicLink(), 'the symlink is left alone');
    assert.throws(() => lstatSync(target), 'nothing was created through the link');
  });

  test('a symlink to a victim file is refused; the victim keeps its mode and contents', async () => {
    const dir = scratch();
    const victim = join(scratch(), 'victim');
    writeFileSync(victim, 'precious');
    chmodSync(victim, 0o600);
    symlinkSync(victim, join(dir, 'v.sock'));
    assert.equal(await refusal(join(dir, 'v.sock')), 'symlink');
    assert.equal(statSync(victim).mode & 0o777, 0o600);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
  });

  test('a regular file at --socket is refused and never deleted', async () => {
    const sock = join(scratch(), 'v.sock');
    writeFileSync(sock, 'not a socket');
    assert.equal(await refusal(sock), 'not-a-socket');
    assert.equal(readFileSync(sock, 'utf8'), 'not a socket');
  });

  test('a socket directory writable by group or others is refused', async () => {
    for (const mode of [0o777, 0o1777, 0o770]) {
      const dir = join(scratch(), 'shared');
      mkdirSync(dir);
      chmodSync(dir, mode);
      assert.equal(await refusal(join(dir, 'v.sock')), 'writable-directory', `mode ${mode.toString(8)}`);
      assert.throws(() => lstatSync(join(dir, 'v.sock')), 'no socket was created');
    }
  });

  test('a socket directory owned by another user, or a symlinked one, is refused', async () => {
    const theirs = join(scratch(), 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, OTHER_UID, OTHER_UID);
    assert.equal(await refusal(join(theirs, 'v.sock')), 'foreign-owner');
    const linked = join(scratch(), 'linked');
    symlinkSync(scratch(), linked);
    assert.equal(await refusal(join(linked, 'v.sock')), 'symlink');
  });

  test('a stale socket owned by another user is refused, not removed', async () => {
    const dir = scratch();
    const sock = join(dir, 'v.sock');
    const { server } = await listenRaw(join(dir, 'live.sock'));
    renameSync(join(dir, 'live.sock'), sock);
    await new Promise((r) => server.close(r));
    chownSync(sock, OTHER_UID, OTHER_UID);
    assert.equal(await refusal(sock), 'foreign-owner');
    assert.ok(lstatSync(sock).isSocket());
  });

  test('the socket is born 0660 in a directory created 0700, whatever the umask; the umask is restored', async () => {
    const sock = join(scratch(), 'fresh', 'deeper', 'v.sock');
    const previous = process.umask(0);
    const vnet = vnetAt(sock);
    try {
      await vnet.start();
      assert.equal(process.umask(), 0, 'the umask is back to what it was');
    } finally {
      process.umask(previous);
    }
    try {
      assert.equal(lstatSync(sock).mode & 0o777, 0o660, 'no access for others, ever');
      assert.equal(lstatSync(join(sock, '..')).mode & 0o777, 0o700);
    } finally {
      await vnet.close();
    }
  });

  test('a live socket of another VNet is not removed; a stale one of ours is replaced', async () => {
    const dir = scratch();
    const sock = join(dir, 'v.sock');
    const { server } = await listenRaw(join(dir, 'old.sock'));
    renameSync(join(dir, 'old.sock'), sock);
    await new Promise((r) => server.close(r));
    const first = vnetAt(sock);
    await first.start();
    try {
      const inode = lstatSync(sock).ino;
      assert.equal(await refusal(sock, 'L8_ERR_CONNECT'), undefined);
      assert.equal(lstatSync(sock).ino, inode, 'the live socket is the same file');
      const vnic = new VNic({ provider: devProvider(), vnet: { path: sock } });
      await vnic.connect();
      await vnic.close();
    } finally {
      await first.close();
    }
  });
});

describe('the VNic trusts only a socket no other user could plant', () => {
  async function refusedBy(socketPath: string): Promise<string | undefined> {
    const vnic = new VNic({ provider: devProvider(), socketPath, env: {} });
    try {
      const err = await vnic.connect().then(
        () => assert.fail('the VNic used an untrusted socket'),
        (e: L8Error) => e,
      );
      assert.equal(err.code, 'L8_ERR_INSECURE', err.message);
      return (err.data as { reason?: string }).reason;
    } finally {
      await vnic.close();
    }
  }

  test('a socket in a world-writable directory is refused before anything is sent to it', async () => {
    const dir = join(scratch(), 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    const planted = await listenRaw(join(dir, 'vnet.sock'));
    try {
      assert.equal(await refusedBy(join(dir, 'vnet.sock')), 'writable-directory');
      assert.equal(planted.accepted(), 0, 'the planted socket never saw a connection');
    } finally {
      planted.server.close();
    }
  });

  test('a socket owned by another user, or not a socket, is refused', async () => {
    const dir = scratch();
    const planted = await listenRaw(join(dir, 'vnet.sock'));
    chownSync(join(dir, 'vnet.sock'), OTHER_UID, OTHER_UID);
    try {
      assert.equal(await refusedBy(join(dir, 'vnet.sock')), 'foreign-owner');
      assert.equal(planted.accepted(), 0);
    } finally {
      planted.server.close();
    }
    writeFileSync(join(dir, 'file.sock'), '');
    assert.equal(await refusedBy(join(dir, 'file.sock')), 'not-a-socket');
  });
});

describe('the VNic finds the VNet at the same default path', () => {
  test('both apply one rule: XDG_RUNTIME_DIR, /run/layer8 for root, else a per-user directory', () => {
    assert.equal(defaultSocketPath(26000, { XDG_RUNTIME_DIR: '/run/user/7' }, 7), '/run/user/7/layer8/vnet.sock');
    assert.equal(defaultSocketPath(26000, {}, 0), '/run/layer8/vnet.sock');
    assert.equal(defaultSocketPath(26000, {}, 1000), join(tmpdir(), 'layer8-1000', 'vnet.sock'));
    assert.equal(defaultSocketPath(26001, {}, 0), '/run/layer8/vnet-26001.sock');
    assert.equal(VNET_SOCKET, defaultSocketPath(), 'the VNic default is the VNet default for this process');
  });

  test('a VNic with no address reaches a VNet on its default socket', async () => {
    const env = { XDG_RUNTIME_DIR: scratch() };
    const vnet = vnetAt(defaultSocketPath(26000, env));
    await vnet.start();
    const vnic = new VNic({ provider: devProvider(), env });
    try {
      await vnic.connect();
      await waitFor(() => vnet.locals.size === 1, { what: 'the VNic attached over the unix socket' });
      assert.equal([...vnet.locals.values()][0]?.opened.transport, 'unix');
    } finally {
      await vnic.close();
      await vnet.close();
    }
  });
});
