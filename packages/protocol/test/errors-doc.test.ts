import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, type ErrorCode, errorClassOf, isErrorCode } from '../src/index.ts';

interface DocRow {
  readonly cls: string;
  readonly retryable: boolean;
}

/** The rows of the code table in docs/errors.md: `| \`CODE\` | \`Class\` | yes/no | meaning |`. */
function docRows(): Map<string, DocRow> {
  const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, DocRow>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`(L8_ERR_[A-Z0-9_]+)`\s*\|\s*`?(\w+)`?\s*\|\s*(yes|no)\s*\|\s*\S.*\|\s*$/.exec(line);
    if (m === null) continue;
    const [, code, cls, retryable] = m as unknown as [string, string, string, string];
    assert.ok(!rows.has(code), `docs/errors.md lists ${code} twice`);
    rows.set(code, { cls, retryable: retryable === 'yes' });
  }
  return rows;
}

test('docs/errors.md and ERROR_CODES list the same codes, classes and retryable flags', () => {
  const doc = docRows();
  const table = Object.keys(ERROR_CODES) as ErrorCode[];
  const missingInDoc = table.filter((c) => !doc.has(c));
  const missingInCode = [...doc.keys()].filter((c) => !isErrorCode(c));
  assert.deepEqual(missingInDoc, [], `codes missing from docs/errors.md: ${missingInDoc.join(', ')}`);
  assert.deepEqual(missingInCode, [], `codes in docs/errors.md but not in ERROR_CODES: ${missingInCode.join(', ')}`);
  for (const code of table) {
    const row = doc.get(code) as DocRow;
    assert.equal(row.retryable, ERROR_CODES[code].retryable, `retryable of ${code}`);
    assert.equal(row.cls, errorClassOf(code).name, `class of ${code}`);
  }
});
