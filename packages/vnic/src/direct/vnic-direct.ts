import type { HealthView, VNetControl } from '@layer8/health';
import { DEFAULT_MAX_FRAME, DEFAULT_MAX_QUEUED_BYTES, Kind, type NodeId, Offset } from '@layer8/protocol';
import type { VNicDrops } from '../dispatch.ts';
import type { PendingTable } from '../pending.ts';
import type { VNicOptions } from '../vnic-options.ts';
import { type DirectHost, DirectLinks } from './direct-links.ts';

/** What the same-host short cut needs from its VNic. */
export interface DirectVNic {
  readonly id: NodeId;
  readonly health: HealthView;
  readonly pending: PendingTable;
  readonly drops: VNicDrops;
  /** The VNet this VNic is attached to now. */
  vnetId(): NodeId;
  /** Hands a request that came over a direct link to the handlers. */
  deliver(frame: Buffer): void;
  /** Sends a control message to the VNet (it waits for the link when needed). */
  control: DirectHost['control'];
  /** A frame came over a direct link at `at` (`performance.now()`): the VNic heard from its overlay. */
  heard(at: number): void;
}

/** Answers over a direct link come from its node, never from a VNet. */
const NOT_FROM_VNET = (): boolean => false;

/**
 * The same-host short cut of a VNic with options `o` (docs/overlay.md, "Same host"); undefined when
 * `direct: false`. Answers on its links complete the VNic's pending requests, requests go to its handlers,
 * and a node is local and up when health shows it a VNic of this VNic's VNet.
 */
export function directLinksOf(o: VNicOptions, v: DirectVNic): DirectLinks | undefined {
  if (o.direct === false) return undefined;
  const host: DirectHost = {
    id: v.id,
    maxFrame: o.maxFrame ?? DEFAULT_MAX_FRAME,
    maxQueuedBytes: o.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    onFrame: (frame, link) => {
      v.heard(link.lastReceivedAt);
      const kind = frame[Offset.KIND] as number;
      if (kind === Kind.REPLY || kind === Kind.PROGRESS || kind === Kind.FAIL) {
        v.pending.answer(frame, kind, NOT_FROM_VNET, v.drops);
      } else v.deliver(frame);
    },
    control: v.control,
    localUp: (node) => {
      const r = v.health.get(node);
      return r?.status === 'up' && r.role === 'vnic' && r.vnet === v.vnetId();
    },
    lost: (node, error) => v.pending.failNode(node, error),
  };
  return new DirectLinks(host, typeof o.direct === 'object' ? o.direct.dir : undefined);
}

/** Hands the VNet's `expect` (a node will dial here) or `introduced` (dial that node) to the short cut. */
export function onDirectControl(
  direct: DirectLinks | undefined,
  c: Extract<VNetControl, { t: 'expect' | 'introduced' }>,
): void {
  if (c.t === 'expect') direct?.expect(c.node, c.token, c.reply);
  else direct?.introduced(c.node, c.path, c.token, c.reply);
}
