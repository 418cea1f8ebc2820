import { ContentType, Kind, Priority } from './constants.ts';
import { l8error } from './errors.ts';
import { encodeMessage, type Message } from './message.ts';
import type { NodeId } from './node-id.ts';

/**
 * Link control messages (docs/protocol.md §6.3): CONTROL frames whose payload is a JSON object with a
 * `t` field naming the message. They never leave the link they were sent on.
 */
export interface ControlBody {
  readonly t: string;
  readonly [field: string]: unknown;
}

/** Encodes a control frame from `source` (length-prefixed). */
export function encodeControl(source: NodeId, body: ControlBody): Buffer {
  return encodeMessage({
    kind: Kind.CONTROL,
    source,
    priority: Priority.HIGHEST,
    contentType: ContentType.CONTROL,
    payload: Buffer.from(JSON.stringify(body), 'utf8'),
  });
}

/**
 * The JSON body of a decoded control frame.
 * @throws L8_ERR_MALFORMED_FRAME when the payload is not a JSON object with a string `t`.
 */
export function controlBody(m: Message): ControlBody {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).toString('utf8'));
  } catch {
    throw l8error('L8_ERR_MALFORMED_FRAME', 'control payload is not JSON');
  }
  if (typeof body !== 'object' || body === null || typeof (body as ControlBody).t !== 'string') {
    throw l8error('L8_ERR_MALFORMED_FRAME', 'control payload has no type');
  }
  return body as ControlBody;
}
