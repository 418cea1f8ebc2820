import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './ports.ts';

/** Size of the file system under the chaos store, MiB: small, so that filling it is quick. */
export const STORE_DISK_MIB = 8;

/**
 * A small file system of its own for the chaos store (`--disk-full`): a tmpfs the run mounts (it needs
 * root, as `mount` does) and fills to make the disk full for the store's process, then frees. The same
 * approach as packages/services' storage-failure test.
 *
 * Invariants: `dataDir` is on the mounted tmpfs until {@link close}; `#filler` is the file that fills it,
 * present only between {@link fill} and {@link free}.
 */
export class StoreDisk {
  readonly #mount: { path: string; remove: () => void };
  readonly #filler: string;
  /** Where the store keeps its SQLite files. */
  readonly dataDir: string;

  private constructor(mount: { path: string; remove: () => void }) {
    this.#mount = mount;
    this.#filler = join(mount.path, 'filler');
    this.dataDir = join(mount.path, 'data');
  }

  /**
   * Mounts a tmpfs of {@link STORE_DISK_MIB} MiB, or says why it cannot: not root, or `mount` refused
   * (a container without the right to mount).
   */
  static mount(): { disk: StoreDisk } | { why: string } {
    const uid = process.getuid?.();
    if (uid !== 0) return { why: `mounting a tmpfs needs root (this run is uid ${uid ?? 'unknown'})` };
    const dir = tempDir('l8-chaos-disk-');
    try {
      const options = `size=${STORE_DISK_MIB}m,mode=0700`;
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'l8-chaos-disk', dir.path], { stdio: 'pipe' });
    } catch (err) {
      dir.remove();
      return { why: `mount -t tmpfs failed: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}` };
    }
    const disk = new StoreDisk(dir);
    mkdirSync(disk.dataDir);
    return { disk };
  }

  /** Writes a file until the file system is full (ENOSPC); returns the bytes it took. */
  fill(): number {
    const fd = openSync(this.#filler, 'a');
    let bytes = 0;
    try {
      for (const size of [1 << 20, 4096, 1]) {
        const chunk = Buffer.alloc(size, 1);
        try {
          for (;;) bytes += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  /** Frees what {@link fill} took. */
  free(): void {
    rmSync(this.#filler, { force: true });
  }

  /** Frees, unmounts (lazily if something still holds a file) and removes the mount point. */
  close(): void {
    this.free();
    try {
      execFileSync('umount', [this.#mount.path], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', this.#mount.path], { stdio: 'pipe' });
    }
    this.#mount.remove();
  }
}
