// Checks the c8 coverage floors of STYLE.md per package after `c8 node --test` has written its data:
// 95% lines for protocol and model, 85% for every other package with a `src` folder (link and fixtures
// included: a new package gets its floor without being listed here). Generated code is excluded.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const strict = new Set(['protocol', 'model']);
let failed = false;
for (const pkg of readdirSync('packages')) {
  if (!existsSync(`packages/${pkg}/src`)) continue;
  const lines = strict.has(pkg) ? 95 : 85;
  const r = spawnSync(
    'npx',
    ['c8', 'check-coverage', '--lines', String(lines), '--include', `packages/${pkg}/src/**`, '--exclude', '**/gen/**'],
    { stdio: 'inherit' },
  );
  console.log(`coverage floor ${lines}% lines for ${pkg}: ${r.status === 0 ? 'ok' : 'FAILED'}`);
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
