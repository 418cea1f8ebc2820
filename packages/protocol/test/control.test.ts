import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ContentType,
  controlBody,
  decodeMessage,
  encodeControl,
  encodeMessage,
  Kind,
  L8Error,
  newNodeId,
  Priority,
} from '../src/index.ts';

const source = newNodeId();
const malformed = (e: unknown): boolean => e instanceof L8Error && e.code === 'L8_ERR_MALFORMED_FRAME';

describe('control frames', () => {
  test('a control body survives encodeControl and controlBody', () => {
    const m = decodeMessage(encodeControl(source, { t: 'ping', n: 1, s: 'é' }).subarray(4));
    assert.equal(m.kind, Kind.CONTROL);
    assert.equal(m.priority, Priority.HIGHEST);
    assert.equal(m.contentType, ContentType.CONTROL);
    assert.deepEqual(controlBody(m), { t: 'ping', n: 1, s: 'é' });
  });

  test('a payload that is not a JSON object with a string t is malformed', () => {
    for (const text of ['not json', '[1]', 'null', '{"t":1}', '{}']) {
      const m = decodeMessage(
        encodeMessage({
          kind: Kind.CONTROL,
          source,
          contentType: ContentType.CONTROL,
          payload: Buffer.from(text),
        }).subarray(4),
      );
      assert.throws(() => controlBody(m), malformed, text);
    }
  });
});
