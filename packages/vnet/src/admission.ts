import { HEALTH_LIMITS, type HealthRecord, type HealthTable, type RecordGuard, type ServiceArea } from '@layer8/health';
import type { NodeHello } from '@layer8/link';
import { type L8Error, l8error, type NodeId, nodeKey } from '@layer8/protocol';
import type { PeerIdentity, SecurityProvider } from '@layer8/security';
import type { Connection, DropCounters } from './connection.ts';

/** What {@link Admission} reads from its VNet (its links, the health table) and counts into. */
export interface AdmissionHost {
  readonly id: NodeId;
  readonly health: HealthTable;
  readonly locals: ReadonlyMap<string, Connection>;
  readonly peers: ReadonlyMap<string, Connection>;
  readonly drops: DropCounters;
  readonly options: { readonly provider: Pick<SecurityProvider, 'canHost'> };
}

/** Per-identity bounds a VNet enforces (docs/security.md, "Threat model"). */
export interface AdmissionLimits {
  /** Links one certificate subject may hold open to this VNet at once. Default 256. */
  readonly maxLinksPerSubject: number;
  /** (service, area) pairs one node may host. Default {@link HEALTH_LIMITS}.maxServicesPerNode (512). */
  readonly maxServicesPerNode: number;
}

/** Bytes of a record besides its services (ids, alias, stats, subject), at most. */
const RECORD_OVERHEAD = 2048;

/** Peer VNet ids remembered with the subject that proved them. */
const MAX_VNET_PINS = 4096;

/**
 * How long a VNic's node id stays pinned to its certificate subject after its record left the table, ms:
 * a node whose VNet died is out of every table until it returns, and no other member may take its id
 * meanwhile (`l8 chaos run` found the hole).
 */
export const RETIRED_PIN_MS = 10 * 60_000;

/** Retired node ids remembered at most; the oldest is forgotten first. */
const MAX_RETIRED_PINS = 4096;

/** The default {@link AdmissionLimits}. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxLinksPerSubject: 256,
  maxServicesPerNode: HEALTH_LIMITS.maxServicesPerNode,
};

/**
 * Who may join this VNet as what, and what a peer VNet may write. Identity comes from what the provider
 * proved (the certificate subject and role), never from the hello: a node id is pinned to the subject of
 * the link that first claimed it for as long as its record lives anywhere in the overlay; a peer VNet
 * writes only its own slice and never a local node, another VNet or an id pinned to someone else.
 * Every refusal is counted in the VNet's drop counters.
 */
export class Admission {
  readonly #vnet: AdmissionHost;
  readonly limits: AdmissionLimits;
  /** Peer VNet id → the subject that first proved it (bounded; oldest forgotten first). */
  readonly #vnetPins = new Map<string, string>();
  /** VNic node id whose record left the table → its subject, until when (bounded; oldest forgotten first). */
  readonly #retired = new Map<string, { subject: string; until: number }>();

  constructor(vnet: AdmissionHost, limits: Partial<AdmissionLimits> = {}) {
    this.#vnet = vnet;
    this.limits = { ...DEFAULT_ADMISSION_LIMITS, ...limits };
    vnet.health.onChange((e) => e.type === 'removed' && this.#retire(e.record));
  }

  /**
   * Checks a hello before the link is accepted (also run on links this VNet dialled).
   * @throws L8_ERR_IDENTITY, L8_ERR_LIMIT, L8_ERR_FORBIDDEN
   */
  check(hello: NodeHello, peer: PeerIdentity): void {
    const e = hello.role === 'vnet' ? this.#peerError(hello, peer) : this.#localError(hello, peer);
    if (e === undefined) return;
    this.count(e);
    throw e;
  }

  /** Checks the services a node proven as `peer` announces. Returns the error to refuse them with, if any. */
  servicesError(peer: PeerIdentity, services: readonly ServiceArea[]): L8Error | undefined {
    if (services.length > this.limits.maxServicesPerNode) {
      return l8error(
        'L8_ERR_LIMIT',
        `${services.length} services announced; at most ${this.limits.maxServicesPerNode} per node`,
      );
    }
    const bytes = Buffer.byteLength(JSON.stringify(services));
    if (bytes > HEALTH_LIMITS.maxRecordBytes - RECORD_OVERHEAD) {
      return l8error(
        'L8_ERR_LIMIT',
        `services of ${bytes} bytes; a node's record holds at most ${HEALTH_LIMITS.maxRecordBytes}`,
      );
    }
    const denied = services.find((s) => !this.#vnet.options.provider.canHost(peer, s.service, s.area));
    if (denied === undefined) return undefined;
    return l8error('L8_ERR_FORBIDDEN', `${peer.subject} may not host ${denied.service}/${denied.area}`);
  }

  /** Counts a refusal under its code. */
  count(e: L8Error): void {
    const drops = this.#vnet.drops;
    if (e.code === 'L8_ERR_LIMIT') drops.limit++;
    else if (e.code === 'L8_ERR_FORBIDDEN') drops.forbidden++;
    else drops.identity++;
  }

  /** The guard a peer's deltas are applied with (see {@link Admission}). */
  guardFor(writer: Connection): RecordGuard {
    return (r) => {
      const ok = this.#mayWrite(writer, r);
      if (!ok) this.#vnet.drops.identity++;
      return ok;
    };
  }

  #mayWrite(writer: Connection, r: HealthRecord): boolean {
    const v = this.#vnet;
    if (r.role === 'vnet' ? r.id !== writer.id : v.peers.has(r.id) || r.id === writer.id) return false;
    if (r.id === v.id || v.locals.has(nodeKey(r.id))) return false;
    if (this.#vnetPins.has(r.id) && r.id !== writer.id) return false;
    const old = v.health.get(r.id);
    if (old?.vnet !== writer.id && v.health.sliceSize(writer.id) >= HEALTH_LIMITS.maxRecordsPerWriter) return false;
    if (old === undefined || old.vnet === writer.id) return true;
    // a node that moved: its old VNet lost it, and the same certificate proved it on the new one
    return old.status === 'unreachable' && old.role === 'vnic' && r.role === 'vnic' && old.subject === r.subject;
  }

  #localError(hello: NodeHello, peer: PeerIdentity): L8Error | undefined {
    const v = this.#vnet;
    if (hello.nodeId === v.id || v.peers.has(hello.nodeId) || this.#vnetPins.has(hello.nodeId)) {
      return l8error('L8_ERR_IDENTITY', `node id ${hello.nodeId} belongs to a VNet`);
    }
    const pinned = v.health.get(hello.nodeId)?.subject ?? this.#retiredSubject(hello.nodeId);
    if (pinned !== undefined && pinned !== peer.subject) {
      return l8error('L8_ERR_IDENTITY', `node id ${hello.nodeId} is held by another certificate than ${peer.subject}`);
    }
    return this.#linksError(hello, peer) ?? this.servicesError(peer, hello.services);
  }

  #linksError(hello: NodeHello, peer: PeerIdentity): L8Error | undefined {
    let n = 0;
    const key = nodeKey(hello.nodeId);
    for (const [k, c] of this.#vnet.locals) if (c.subject === peer.subject && k !== key) n++;
    if (n < this.limits.maxLinksPerSubject) return undefined;
    return l8error('L8_ERR_LIMIT', `${peer.subject} already holds ${n} links to this VNet (the maximum)`);
  }

  #peerError(hello: NodeHello, peer: PeerIdentity): L8Error | undefined {
    const v = this.#vnet;
    const rec = v.health.get(hello.nodeId);
    if (v.locals.has(nodeKey(hello.nodeId)) || (rec !== undefined && rec.vnet !== hello.nodeId)) {
      return l8error('L8_ERR_IDENTITY', `VNet id ${hello.nodeId} is the id of another node`);
    }
    const pinned = this.#vnetPins.get(hello.nodeId);
    if (pinned !== undefined && pinned !== peer.subject) {
      return l8error('L8_ERR_IDENTITY', `VNet id ${hello.nodeId} is held by another certificate than ${peer.subject}`);
    }
    if (pinned === undefined && !this.#makeRoomForPin()) {
      return l8error('L8_ERR_LIMIT', `this VNet already knows ${MAX_VNET_PINS} VNet ids`);
    }
    return this.#peerLinksError(peer) ?? this.#pin(hello.nodeId, peer.subject);
  }

  /** Remembers the subject of a VNic record that left the table, for {@link RETIRED_PIN_MS}. */
  #retire(r: HealthRecord): void {
    if (r.role !== 'vnic' || r.subject === undefined) return;
    this.#retired.delete(r.id);
    this.#retired.set(r.id, { subject: r.subject, until: performance.now() + RETIRED_PIN_MS });
    if (this.#retired.size > MAX_RETIRED_PINS) this.#retired.delete(this.#retired.keys().next().value as string);
  }

  /** The subject a removed node id is still pinned to, if any. */
  #retiredSubject(id: string): string | undefined {
    const r = this.#retired.get(id);
    if (r === undefined || r.until > performance.now()) return r?.subject;
    this.#retired.delete(id);
    return undefined;
  }

  #pin(id: string, subject: string): undefined {
    this.#vnetPins.set(id, subject);
    return undefined;
  }

  /** Forgets the oldest pin of a VNet not linked now; false when every pinned VNet is linked. */
  #makeRoomForPin(): boolean {
    if (this.#vnetPins.size < MAX_VNET_PINS) return true;
    for (const id of this.#vnetPins.keys()) {
      if (this.#vnet.peers.has(id)) continue;
      this.#vnetPins.delete(id);
      return true;
    }
    return false;
  }

  /** Peer links of one VNet certificate are bounded like local links. */
  #peerLinksError(peer: PeerIdentity): L8Error | undefined {
    let n = 0;
    for (const c of this.#vnet.peers.values()) if (c.subject === peer.subject) n++;
    if (n < this.limits.maxLinksPerSubject) return undefined;
    return l8error('L8_ERR_LIMIT', `${peer.subject} already holds ${n} peer links to this VNet (the maximum)`);
  }
}
