#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Runs the built CLI (dist) when present, else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', 'dist', 'src', 'main.js');
if (existsSync(built)) {
  await import(built);
} else {
  const src = join(here, '..', 'src', 'main.ts');
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', src, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
