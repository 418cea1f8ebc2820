#!/usr/bin/env node
// Runs the built CLI (dist) while it is current, else the TypeScript source through tsx: never a stale
// build. L8_BIN_TRACE=1 prints which entry was chosen, and why, on stderr.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chooseEntry, tsxLoader } from './entry.js';

const entry = chooseEntry(join(dirname(fileURLToPath(import.meta.url)), '..'));
if (process.env.L8_BIN_TRACE) process.stderr.write(`l8: running ${entry.kind} ${entry.file} (${entry.reason})\n`);
if (entry.kind === 'dist') {
  await import(pathToFileURL(entry.file).href);
} else {
  const tsx = tsxLoader();
  if (tsx === undefined) {
    process.stderr.write(`l8: ${entry.reason}, and tsx is not installed to run the source: run npm run build\n`);
    process.exit(1);
  }
  const args = ['--conditions=source', '--import', tsx, entry.file, ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
