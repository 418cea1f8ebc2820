import { isNodeId, l8error, MAX_SERVICE_BYTES, MIN_MAX_FRAME, type NodeId, PROTOCOL_VERSION } from '@layer8/protocol';

/** The overlay handshake's view of a node (sent once per link after the membership proof, docs/protocol.md §6.2). */
export interface NodeHello {
  readonly version: number;
  readonly nodeId: NodeId;
  readonly alias: string;
  readonly role: 'vnic' | 'vnet';
  /** The node's VNet; for a VNet, itself. */
  readonly vnet: NodeId;
  /** (service, area) pairs the node hosts, with the instance's state when it says one. */
  readonly services: readonly {
    readonly service: string;
    readonly area: number;
    readonly state?: InstanceState;
  }[];
  /** Largest frame the node accepts, bytes. */
  readonly maxFrame: number;
  /** Heartbeat deadline in ms that the sender applies. */
  readonly heartbeatMs: number;
}

/** Longest alias a hello may carry, characters. */
export const MAX_ALIAS_LENGTH = 255;

/**
 * Validates a peer's hello body (the JSON of its handshake frame, `t: 'hello'` included) and returns it as a
 * {@link NodeHello} holding only the known fields.
 * @throws L8_ERR_VERSION when the peer speaks another protocol version (`data: {version, supported}`);
 *   L8_ERR_HANDSHAKE when the body is not a well-formed hello.
 */
export function parseHello(body: Record<string, unknown>): NodeHello {
  if (body.t !== 'hello') throw l8error('L8_ERR_HANDSHAKE', 'expected a hello');
  if (body.version !== PROTOCOL_VERSION) {
    throw l8error(
      'L8_ERR_VERSION',
      `peer speaks protocol version ${String(body.version)}, this side ${PROTOCOL_VERSION}`,
      { data: { version: body.version, supported: PROTOCOL_VERSION } },
    );
  }
  if (!isHelloShape(body)) throw l8error('L8_ERR_HANDSHAKE', 'malformed hello');
  const { nodeId, vnet, alias, role, services, maxFrame, heartbeatMs } = body;
  return {
    version: PROTOCOL_VERSION,
    nodeId,
    vnet,
    alias,
    role,
    services: services.map(({ service, area, state }) =>
      state === undefined ? { service, area } : { service, area, state },
    ),
    maxFrame,
    heartbeatMs,
  };
}

type HelloShape = Omit<NodeHello, 'version'>;

/** What an instance of a stateful service says of itself: loading its state, or serving. */
export type InstanceState = 'recovering' | 'serving';

function isHelloShape(body: Record<string, unknown>): body is Record<string, unknown> & HelloShape {
  const { nodeId, vnet, alias, role, services, maxFrame, heartbeatMs } = body;
  return (
    isNodeId(nodeId) &&
    isNodeId(vnet) &&
    typeof alias === 'string' &&
    alias.length <= MAX_ALIAS_LENGTH &&
    (role === 'vnic' || role === 'vnet') &&
    Number.isSafeInteger(maxFrame) &&
    (maxFrame as number) >= MIN_MAX_FRAME &&
    Number.isSafeInteger(heartbeatMs) &&
    Array.isArray(services) &&
    services.every(isServiceArea)
  );
}

function isServiceArea(s: unknown): s is { service: string; area: number; state?: InstanceState } {
  if (typeof s !== 'object' || s === null) return false;
  const { service, area, state } = s as Record<string, unknown>;
  return (
    (state === undefined || state === 'recovering' || state === 'serving') &&
    typeof service === 'string' &&
    service.length > 0 &&
    Buffer.byteLength(service) <= MAX_SERVICE_BYTES &&
    Number.isInteger(area) &&
    (area as number) >= 0 &&
    (area as number) <= 65535
  );
}
