import { isNodeId, l8error, MAX_SERVICE_BYTES, PROTOCOL_VERSION, toL8Error } from '@layer8/protocol';
import type { NodeHello, SecuredLink } from '../provider.ts';
import { ProofChannel } from './proof-channel.ts';

/** A secured link after the overlay hello: ready for a {@link FramedLink}. */
export interface HelloResult {
  /** What the peer said about itself. */
  readonly hello: NodeHello;
  /** Bytes read past the hello. */
  readonly head: Buffer;
}

/**
 * Exchanges {@link NodeHello}s on a secured link (docs/protocol.md §6.2). Both sides send at once; a
 * version mismatch or a malformed hello is sent back as a fail frame and rejects with a coded error.
 */
export async function exchangeHello(link: SecuredLink, own: NodeHello, signal?: AbortSignal): Promise<HelloResult> {
  const channel = new ProofChannel(link.stream, signal, link.head);
  try {
    channel.send({ t: 'hello', ...own });
    const hello = parseHello(await channel.next());
    return { hello, head: channel.release() };
  } catch (err) {
    const e = toL8Error(err, 'L8_ERR_HANDSHAKE');
    channel.release();
    if (e.code === 'L8_ERR_VERSION') channel.refuse(e);
    else link.stream.destroy();
    throw e;
  }
}

function parseHello(body: Record<string, unknown>): NodeHello {
  if (body.t !== 'hello') throw l8error('L8_ERR_HANDSHAKE', 'expected a hello');
  if (body.version !== PROTOCOL_VERSION) {
    throw l8error(
      'L8_ERR_VERSION',
      `peer speaks protocol version ${String(body.version)}, this side ${PROTOCOL_VERSION}`,
      {
        data: { version: body.version, supported: PROTOCOL_VERSION },
      },
    );
  }
  const { nodeId, vnet, alias, role, services, maxFrame, heartbeatMs } = body;
  const ok =
    isNodeId(nodeId) &&
    isNodeId(vnet) &&
    typeof alias === 'string' &&
    (role === 'vnic' || role === 'vnet') &&
    Number.isSafeInteger(maxFrame) &&
    Number.isSafeInteger(heartbeatMs) &&
    Array.isArray(services) &&
    services.every(isServiceArea);
  if (!ok) throw l8error('L8_ERR_HANDSHAKE', 'malformed hello');
  return {
    version: PROTOCOL_VERSION,
    nodeId,
    vnet,
    alias,
    role,
    services,
    maxFrame: maxFrame as number,
    heartbeatMs: heartbeatMs as number,
  };
}

function isServiceArea(s: unknown): s is { service: string; area: number } {
  if (typeof s !== 'object' || s === null) return false;
  const { service, area } = s as Record<string, unknown>;
  return (
    typeof service === 'string' &&
    Buffer.byteLength(service) <= MAX_SERVICE_BYTES &&
    Number.isInteger(area) &&
    (area as number) >= 0 &&
    (area as number) <= 65535
  );
}
