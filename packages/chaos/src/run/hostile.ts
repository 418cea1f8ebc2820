import type { LinkAddress, NodeHello } from '@layer8/link';
import { MIN_MAX_FRAME, type NodeId, newNodeId, PROTOCOL_VERSION, toL8Error } from '@layer8/protocol';
import { dialLink, type SecurityProvider, TlsProvider } from '@layer8/security';
import type { ChaosOverlay } from './overlay.ts';

/**
 * A hostile join tried while the overlay is under faults: `foreign-ca`, a node of another overlay (its
 * own CA) dialling a VNet over TCP; `stolen-id`, a node of this overlay claiming the node id of another
 * (a live node, or one just killed whose record still lives) on a VNet's unix socket.
 */
export type ProbeKind = 'foreign-ca' | 'stolen-id';

/** What a hostile join got: refused (and with which code), or admitted (a hole). */
export interface ProbeOutcome {
  readonly kind: ProbeKind;
  /** The VNet it dialled, and for `stolen-id` whose id it claimed. */
  readonly target: string;
  readonly refused: boolean;
  /** The refusal's code, or `ADMITTED`. */
  readonly code: string;
}

/** Codes a join of another overlay may be refused with. */
const FOREIGN_CODES: ReadonlySet<string> = new Set(['L8_ERR_AUTH', 'L8_ERR_HANDSHAKE']);

/** A node of another overlay dials the VNet of host `h` over TLS: it must be refused. */
export function probeForeign(overlay: ChaosOverlay, h: number): Promise<ProbeOutcome> {
  const provider = new TlsProvider({ dir: overlay.foreignDir, node: 'stranger' });
  return probeForeignAt(provider, overlay.addressesOf(h).tcp, `vnet-${h}`);
}

/**
 * A node of another overlay (`provider`: another CA's certificate, or another passphrase) dials the VNet
 * at `tcp`: it must be refused (`target` names that VNet in the outcome).
 */
export async function probeForeignAt(
  provider: SecurityProvider,
  tcp: { host: string; port: number },
  target: string,
): Promise<ProbeOutcome> {
  const code = await attempt(provider, tcp, newNodeId());
  return { kind: 'foreign-ca', target, refused: FOREIGN_CODES.has(code), code };
}

/**
 * A node of this overlay with another certificate claims `id` (whose record holds the subject that
 * proved it) on the VNet of host `h`: it must be refused with `L8_ERR_IDENTITY`.
 */
export async function probeStolenId(
  overlay: ChaosOverlay,
  h: number,
  id: string,
  owner: string,
): Promise<ProbeOutcome> {
  const provider = new TlsProvider({ dir: overlay.securityDir, node: 'intruder' });
  const code = await attempt(provider, { path: overlay.addressesOf(h).unix }, id as NodeId);
  return { kind: 'stolen-id', target: `vnet-${h} as ${owner}`, refused: code === 'L8_ERR_IDENTITY', code };
}

/** One join: the code it was refused with, or `ADMITTED` when the link was set up. */
async function attempt(provider: SecurityProvider, address: LinkAddress, nodeId: NodeId): Promise<string> {
  const hello: NodeHello = {
    version: PROTOCOL_VERSION,
    nodeId,
    alias: 'chaos-probe',
    role: 'vnic',
    vnet: nodeId,
    services: [],
    maxFrame: MIN_MAX_FRAME,
    heartbeatMs: 60_000,
  };
  try {
    const opened = await dialLink(provider, address, hello, 3000);
    opened.stream.destroy();
    return 'ADMITTED';
  } catch (err) {
    return toL8Error(err).code;
  }
}
