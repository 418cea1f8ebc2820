/** The committed generated code under src/gen matches what `buf generate` makes from proto/ now. */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generatedDrift } from '@layer8/fixtures';

test('src/gen is up to date with proto/ (run `npm run generate -w @layer8/model`)', () => {
  assert.deepEqual(generatedDrift(join(dirname(fileURLToPath(import.meta.url)), '..')), []);
});
