/**
 * Runs one benchmark: `npm run bench -- NAME [args]` loads `bench/NAME.ts`, whose default export is an
 * async function returning rows. The last line printed is the JSON object of bench/README.md.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchMain } from './lib/harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (NAME is one of: ${names.join(', ')})`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}.ts`))) as { default: BenchMain };
const rows = await mod.default(args);
console.log(JSON.stringify({ bench: name, rows }));
process.exit(0);
