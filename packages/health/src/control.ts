import { z } from 'zod';
import { deltaSchema, serviceAreaSchema, statsSchema } from './schema.ts';

/**
 * The control messages of the overlay (docs/protocol.md §6.3) as schemas: every CONTROL body a link
 * delivers is checked against the schema of what that kind of link may send before anything is stored.
 * A body that fails closes the link with `L8_ERR_MALFORMED_FRAME`.
 */

/** Announced services before the per-node bound is applied (that one is a limit, not a malformed frame). */
const announced = z.array(serviceAreaSchema).max(65_536);

const hb = z.object({ t: z.literal('hb') });
const resync = z.object({ t: z.literal('resync') });

/** What a local VNic may send its VNet. */
export const localControlSchema = z.discriminatedUnion('t', [
  hb,
  resync,
  z.object({ t: z.literal('services'), services: announced }),
  z.object({ t: z.literal('stats'), stats: statsSchema }),
]);

const wireError = z.object({ code: z.string().max(64), message: z.string().max(4096), data: z.unknown().optional() });

/** What a peer VNet may send. */
export const peerControlSchema = z.discriminatedUnion('t', [
  hb,
  resync,
  z.object({ t: z.literal('health'), delta: deltaSchema }),
  z.object({ t: z.literal('close'), error: wireError }),
]);

/** What a VNet may send a local VNic. */
export const vnetControlSchema = z.discriminatedUnion('t', [
  hb,
  z.object({ t: z.literal('health'), deltas: z.array(deltaSchema).max(65_536) }),
  z.object({ t: z.literal('drop'), vnet: z.string() }),
  z.object({ t: z.literal('close'), error: wireError }),
]);

/** A control message from a local VNic. */
export type LocalControl = z.infer<typeof localControlSchema>;
/** A control message from a peer VNet. */
export type PeerControl = z.infer<typeof peerControlSchema>;
/** A control message from a VNet to its VNic. */
export type VNetControl = z.infer<typeof vnetControlSchema>;

/** Checks a control body from a local VNic; undefined when it matches no message. */
export function parseLocalControl(body: unknown): LocalControl | undefined {
  const r = localControlSchema.safeParse(body);
  return r.success ? r.data : undefined;
}

/** Checks a control body from a peer VNet; undefined when it matches no message. */
export function parsePeerControl(body: unknown): PeerControl | undefined {
  const r = peerControlSchema.safeParse(body);
  return r.success ? r.data : undefined;
}

/** Checks a control body from the VNet (VNic side); undefined when it matches no message. */
export function parseVNetControl(body: unknown): VNetControl | undefined {
  const r = vnetControlSchema.safeParse(body);
  return r.success ? r.data : undefined;
}
