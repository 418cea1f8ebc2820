import { lstatSync, mkdirSync, type Stats, unlinkSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { type L8Error, l8error } from '@layer8/protocol';

/**
 * The local socket of a VNet, safe against other local users (docs/overlay.md "Run a VNet per host").
 *
 * The guard is the directory: it must be ours (or root's), a real directory (not a symlink), and not
 * writable by group or others, so nobody else can plant, rename or swap an entry in it. Inside such a
 * directory the remaining rules (never follow a symlink, never delete what is not our dead socket, remove
 * on close only the inode we created) hold without races.
 *
 * The socket is born 0660: `process.umask` is process-wide, so it is set only around the synchronous
 * `bind` inside `server.listen` and restored in the same tick (no JS runs in between; a file another
 * libuv thread creates in that window gets at most 0660). There is no chmod after listen (chmod follows
 * symlinks). In a worker thread, where `process.umask(mask)` throws, the umask is left alone and the
 * socket mode is checked after listen instead: the directory still keeps others out.
 */

/** Why a socket path was refused (the `reason` in the error's data). */
export type UnsafeReason =
  | 'symlink'
  | 'not-a-directory'
  | 'not-a-socket'
  | 'foreign-owner'
  | 'writable-directory'
  | 'world-writable-socket';

/** Where a VNet created its socket: removed on close only if the path still holds this inode. */
export interface SocketFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** Mode bits a directory holding the socket must not have: group and world write. */
const OTHERS_WRITE = 0o022;
/** Umask while the socket is bound: the socket is born `srw-rw----`. */
const SOCKET_UMASK = 0o117;

/**
 * Makes `path` ready to bind: creates its directory 0700 when missing, verifies the directory, and
 * removes a dead socket of ours left at `path`. Never follows a symlink, never deletes anything else.
 * @param uid the effective uid to trust besides root; undefined (Windows) skips the checks.
 * @throws L8_ERR_INSECURE (data `{path, reason}`) when the directory or the entry at `path` could be
 *   someone else's; L8_ERR_CONNECT when a live socket already listens at `path`.
 */
export async function prepareSocketPath(path: string, uid = process.getuid?.()): Promise<void> {
  if (uid === undefined) return;
  const dir = dirname(path);
  let mkdirError: unknown;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    mkdirError = e; // e.g. a dangling symlink in the way: the lstat below names it
  }
  const st = lstatOrUndefined(dir);
  if (st === undefined) throw fsError(dir, mkdirError);
  checkDirectory(dir, st, uid);
  const entry = lstatOrUndefined(path);
  if (entry === undefined) return;
  checkEntry(path, entry, uid);
  if (await isLive(path)) throw l8error('L8_ERR_CONNECT', `a live socket already listens at ${path}`);
  unlinkSync(path);
}

/**
 * Runs `listen` (which must bind synchronously, as `server.listen({path})` does in the main process)
 * under the socket umask, then restores the umask before returning.
 */
export function withSocketUmask<T>(listen: () => T): T {
  if (!isMainThread) return listen();
  const previous = process.umask(SOCKET_UMASK);
  try {
    return listen();
  } finally {
    process.umask(previous);
  }
}

/**
 * Records the socket just bound at `path`, checking it is a socket of ours that others cannot connect to.
 * @throws L8_ERR_INSECURE when it is not (someone swapped it, or the umask could not be applied).
 */
export function socketFileOf(path: string, uid = process.getuid?.()): SocketFile {
  const st = lstatSync(path);
  if (uid !== undefined) {
    checkEntry(path, st, uid);
    if ((st.mode & 0o002) !== 0) throw unsafe(path, 'world-writable-socket', 'others could connect to it');
  }
  return { path, dev: st.dev, ino: st.ino };
}

/**
 * Removes the socket we created, only if `path` still holds that very inode (idempotent). On unix libuv
 * already unlinks a pipe server's path by name when it closes; this covers the case where it did not, and
 * never removes a socket that replaced ours.
 */
export async function removeSocketFile(file: SocketFile | undefined): Promise<void> {
  if (file === undefined) return;
  const st = await lstat(file.path).catch(() => undefined);
  if (st === undefined || !st.isSocket() || st.dev !== file.dev || st.ino !== file.ino) return;
  await unlink(file.path).catch(() => undefined);
}

function checkDirectory(dir: string, st: Stats, uid: number): void {
  if (st.isSymbolicLink()) throw unsafe(dir, 'symlink', 'the socket directory is a symlink');
  if (!st.isDirectory()) throw unsafe(dir, 'not-a-directory', 'the socket directory is not a directory');
  if (st.uid !== uid && st.uid !== 0)
    throw unsafe(dir, 'foreign-owner', `the socket directory is owned by uid ${st.uid}`);
  if ((st.mode & OTHERS_WRITE) !== 0) {
    const mode = (st.mode & 0o777).toString(8);
    throw unsafe(dir, 'writable-directory', `the socket directory has mode ${mode}; use 0700 or 0750`);
  }
}

function checkEntry(path: string, st: Stats, uid: number): void {
  if (st.isSymbolicLink()) throw unsafe(path, 'symlink', 'a symlink is at the socket path (not followed)');
  if (!st.isSocket()) throw unsafe(path, 'not-a-socket', 'something other than a socket is at the socket path');
  if (st.uid !== uid) throw unsafe(path, 'foreign-owner', `the socket at the path is owned by uid ${st.uid}`);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(path, e);
  }
}

function fsError(path: string, cause: unknown): L8Error {
  const why = cause instanceof Error ? cause.message : 'it vanished';
  return l8error('L8_ERR_CONNECT', `cannot prepare unix socket at ${path}: ${why}`, { cause });
}

function unsafe(path: string, reason: UnsafeReason, why: string): L8Error {
  return l8error('L8_ERR_INSECURE', `refusing unix socket ${path}: ${why}`, { data: { path, reason } });
}

/** Whether something accepts connections at `path` (a socket we own, in a directory only we write). */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
