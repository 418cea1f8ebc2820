/**
 * Runs one benchmark: `npm run bench -- NAME [args]` builds the packages and bench/ and loads the
 * compiled `bench/dist/NAME.js` (run it from source with `node --conditions=source --import tsx
 * bench/run.ts NAME` instead), whose default export is an
 * async function returning rows. The last line printed is the JSON object of bench/README.md.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchMain } from './lib/harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const names = readdirSync(here)
  .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && f !== `run${ext}`)
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (NAME is one of: ${names.join(', ')})`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}${ext}`))) as { default: BenchMain };
const rows = await mod.default(args);
console.log(JSON.stringify({ bench: name, rows }));
process.exit(0);
