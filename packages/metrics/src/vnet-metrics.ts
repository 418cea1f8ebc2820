import type { LinkStats } from '@layer8/link';
import type { LinkKind, VNet } from '@layer8/vnet';
import type { Registry } from 'prom-client';
import { fieldSamples, type Sample, scrapedCounter, scrapedGauge } from './scraped.ts';

const KINDS: readonly LinkKind[] = ['local', 'peer'];

/** The open links of `kind`: local VNics or peer VNets. */
function linksOf(vnet: VNet, kind: LinkKind): VNet['locals'] {
  return kind === 'local' ? vnet.locals : vnet.peers;
}

/** The stats of the open links of `kind`. */
function* openStats(vnet: VNet, kind: LinkKind): Iterable<LinkStats> {
  for (const c of linksOf(vnet, kind).values()) yield c.link.stats;
}

/** One sample per link kind of a traffic field (closed links included), labelled `link_kind`. */
function perKind(vnet: VNet, field: keyof LinkStats, extra: Record<string, string> = {}): Sample[] {
  return KINDS.map((k) => [{ ...extra, link_kind: k }, vnet.counters.traffic(k, openStats(vnet, k))[field]]);
}

/** In and out samples of a traffic pair (`framesIn`/`framesOut`), labelled `direction` and `link_kind`. */
function inOut(vnet: VNet, inField: keyof LinkStats, outField: keyof LinkStats): Sample[] {
  return [...perKind(vnet, inField, { direction: 'in' }), ...perKind(vnet, outField, { direction: 'out' })];
}

/** Bytes waiting to be written on the open links of each kind. */
function queueBytes(vnet: VNet): Sample[] {
  return KINDS.map((k) => {
    let bytes = 0;
    for (const c of linksOf(vnet, k).values()) bytes += c.link.pendingBytes;
    return [{ link_kind: k }, bytes];
  });
}

/** Link setups by result and code. */
function handshakes(vnet: VNet): Sample[] {
  const out: Sample[] = [];
  for (const [result, codes] of vnet.counters.handshakes) {
    for (const [code, n] of codes) out.push([{ result, code }, n]);
  }
  return out;
}

/** Nodes in the VNet's health table by status and role; every pair is present, zero or not. */
function healthNodes(vnet: VNet): Sample[] {
  const count = new Map<string, number>();
  for (const s of ['up', 'unreachable']) for (const r of ['vnet', 'vnic']) count.set(`${s} ${r}`, 0);
  for (const rec of vnet.health.all()) {
    const key = `${rec.status} ${rec.role}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  return [...count].map(([key, n]) => {
    const [status = '', role = ''] = key.split(' ');
    return [{ status, role }, n];
  });
}

/** The link gauges and traffic counters, by link kind. */
function registerLinks(registry: Registry, vnet: VNet): void {
  const kindLabel = ['link_kind'];
  const flow = ['direction', 'link_kind'];
  scrapedGauge(registry, {
    name: 'layer8_vnet_links',
    help: 'Open links of this VNet, by kind (local VNics, peer VNets).',
    labelNames: kindLabel,
    read: () => KINDS.map((k) => [{ link_kind: k }, linksOf(vnet, k).size]),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_links_closed_total',
    help: 'Links closed since the VNet started, by kind (links refused right after their handshake included).',
    labelNames: kindLabel,
    read: () => KINDS.map((k) => [{ link_kind: k }, vnet.counters.linksClosed[k]]),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_frames_total',
    help: 'Frames received (in) and written (out) on the links of this VNet, by link kind.',
    labelNames: flow,
    read: () => inOut(vnet, 'framesIn', 'framesOut'),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_bytes_total',
    help: 'Bytes received (in) and written (out) on the links of this VNet, length prefixes included.',
    labelNames: flow,
    read: () => inOut(vnet, 'bytesIn', 'bytesOut'),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_writes_total',
    help: 'Batched socket writes, by link kind (frames_total{direction="out"} / writes_total is the batch size).',
    labelNames: kindLabel,
    read: () => perKind(vnet, 'writes'),
  });
}

/** Queues, back-pressure and refusals on the links. */
function registerQueues(registry: Registry, vnet: VNet): void {
  const kindLabel = ['link_kind'];
  scrapedGauge(registry, {
    name: 'layer8_vnet_send_queue_bytes',
    help: 'Bytes waiting to be written on the open links, by link kind (queued and in the socket buffer).',
    labelNames: kindLabel,
    read: () => queueBytes(vnet),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_send_refused_total',
    help: 'Frames a full send queue refused, by link kind of the receiving link.',
    labelNames: kindLabel,
    read: () => perKind(vnet, 'refused'),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_backpressure_pauses_total',
    help: 'Times reading a link was paused until a slow receiver drained, by link kind of the paused link.',
    labelNames: kindLabel,
    read: () => perKind(vnet, 'pauses'),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_drops_total',
    help: 'Frames, links and announcements the VNet refused, by reason (the fields of VNet.drops).',
    labelNames: ['reason'],
    read: () => fieldSamples('reason', vnet.drops),
  });
}

/** Handshakes, health and the control plane. */
function registerControl(registry: Registry, vnet: VNet): void {
  scrapedGauge(registry, {
    name: 'layer8_vnet_handshakes_pending',
    help: 'Connections in their handshake now.',
    read: () => [[{}, vnet.pendingHandshakes]],
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_handshakes_total',
    help: 'Link setups by result (accepted, dialled, refused, abandoned, dial_failed) and code (OK or L8_ERR_*).',
    labelNames: ['result', 'code'],
    read: () => handshakes(vnet),
  });
  scrapedGauge(registry, {
    name: 'layer8_health_nodes',
    help: "Nodes in this VNet's health table, by status and role.",
    labelNames: ['status', 'role'],
    read: () => healthNodes(vnet),
  });
  scrapedCounter(registry, {
    name: 'layer8_vnet_control_total',
    help: 'Control-plane work: heartbeats and health deltas sent, heartbeat rounds, route table rebuilds.',
    labelNames: ['what'],
    read: () => fieldSamples('what', vnet.control.counters),
  });
  scrapedGauge(registry, {
    name: 'layer8_vnet_info',
    help: 'Always 1; labels name this VNet.',
    labelNames: ['id', 'alias'],
    read: () => [[{ id: vnet.id, alias: vnet.alias }, 1]],
  });
}

/**
 * Registers the metrics of `vnet` in `registry` (docs/observability.md). Every value is read from the
 * VNet's own counters when the registry is scraped: metrics add nothing to the VNet's per-frame work.
 * One VNet per registry (the names carry no VNet label).
 */
export function registerVNetMetrics(registry: Registry, vnet: VNet): void {
  registerLinks(registry, vnet);
  registerQueues(registry, vnet);
  registerControl(registry, vnet);
}
