import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A free TCP port on `host`, found by listening on port 0. Prefer passing port 0 to the component
 * itself; use this only where a port must be known before the component starts (a restart on the
 * same port, a proxy target).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'l8-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Loopback addresses that stand for distinct hosts: 127.0.0.2, 127.0.0.3, … */
export function hostAddress(index: number): string {
  return `127.0.0.${index + 2}`;
}
