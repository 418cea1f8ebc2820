import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DevProvider } from '@layer8/security';
import { tempDir } from '@layer8/testkit';
import { VNet } from '../src/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/** The snippets a document marks `<!-- example: NAME -->` before a ```ts block, with what they print. */
function examples(doc: string): { name: string; code: string; expected: string[] }[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const out = [];
  for (const m of text.matchAll(/<!-- example: ([\w-]+) -->\n```ts\n([\s\S]*?)```/g)) {
    const code = m[2] as string;
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((e) => e[1] as string);
    out.push({ name: m[1] as string, code, expected });
  }
  return out;
}

/**
 * Runs the documents' examples as printed, each as its own program, against a VNet on the dev provider's
 * public passphrase (what `npm start` runs), found through `L8_VNET`.
 */
describe('the runnable examples of the docs', () => {
  let vnet: VNet;
  let dir: ReturnType<typeof tempDir>;
  let work: string;

  before(async () => {
    dir = tempDir('l8-docs-');
    const provider = new DevProvider({ passphrase: 'layer8-local-dev-only', warn: () => undefined });
    vnet = new VNet({ provider, host: '127.0.0.1', port: 0, socketPath: join(dir.path, 'vnet.sock') });
    await vnet.start();
    // inside the repository, so that the examples' imports resolve as they do for a user of it
    work = mkdtempSync(join(ROOT, 'packages/vnet/.docs-examples-'));
  });

  after(async () => {
    await vnet.close();
    rmSync(work, { recursive: true, force: true });
    dir.remove();
  });

  for (const doc of ['docs/overlay.md', 'README.md']) {
    const found = examples(doc);
    test(`${doc} has runnable examples`, () => assert.ok(found.length > 0));
    for (const ex of found) {
      test(`${doc}: ${ex.name} runs as printed`, async () => {
        const file = join(work, `${ex.name}.ts`);
        writeFileSync(file, ex.code);
        const env = { ...process.env, L8_VNET: vnet.addresses.unix as string, L8_LOG: 'silent' };
        const { stdout } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
          env,
          cwd: ROOT,
          timeout: 60_000,
        });
        const printed = stdout
          .trim()
          .split('\n')
          .filter((l) => l.length > 0);
        assert.deepEqual(printed, ex.expected, `${ex.name} printed what its comments say`);
      });
    }
  }
});
