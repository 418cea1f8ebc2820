/**
 * The topology picture: the VNets as hubs (on a circle; a line for two), their peer links, and each VNet's
 * nodes on an arc facing outwards, coloured by status. Nodes that left the table stay, greyed, as `gone`.
 */
import { put, svg } from './dom.js';

const W = 640;
const H = 360;

/** Draws `view` (a DashboardView) and the `gone` nodes (NodeViews with status `gone`) in the SVG `id`. */
export function renderTopology(id, view, gone) {
  const hubs = place(view.vnets);
  const nodes = [...view.nodes.filter((n) => n.role === 'vnic'), ...gone.filter((n) => n.role === 'vnic')];
  const spots = nodes.flatMap((n) => {
    const hub = hubs.get(n.vnet);
    return hub === undefined ? [] : [{ n, hub }];
  });
  arrange(spots, hubs.size);
  put(
    id,
    view.links.map((l) => link(hubs.get(l.a), hubs.get(l.b))),
    spots.map((s) => svg('line', { ...ends(s.hub, s), class: `spoke ${s.n.status}` })),
    [...hubs.values()].map((hub) => node(hub, hub.v, 'hub')),
    spots.map((s) => node(s, s.n, 'leaf')),
  );
}

/** The hubs' positions: on an ellipse around the centre (one VNet: the centre). */
function place(vnets) {
  const hubs = new Map();
  vnets.forEach((v, i) => {
    const angle = Math.PI + (2 * Math.PI * i) / vnets.length;
    const r = vnets.length === 1 ? 0 : 1;
    hubs.set(v.id, { v, angle, x: W / 2 + r * (W / 4) * Math.cos(angle), y: H / 2 + r * (H / 4) * Math.sin(angle) });
  });
  return hubs;
}

/** Puts each VNet's nodes on an arc around it, facing away from the centre. */
function arrange(spots, hubCount) {
  const spread = hubCount === 1 ? 2 * Math.PI : (Math.PI * 11) / 10;
  const radius = hubCount === 1 ? 120 : 100;
  const byHub = Map.groupBy(spots, (s) => s.hub);
  for (const [hub, list] of byHub) {
    list.forEach((s, j) => {
      const step = hubCount === 1 ? spread / list.length : spread / Math.max(1, list.length - 1);
      const a = list.length === 1 ? hub.angle : hub.angle - spread / 2 + j * step;
      Object.assign(s, { x: hub.x + radius * Math.cos(a), y: hub.y + radius * Math.sin(a) });
    });
  }
}

function ends(a, b) {
  return { x1: a.x, y1: a.y, x2: b.x, y2: b.y };
}

function link(a, b) {
  if (a === undefined || b === undefined) return undefined;
  const up = a.v.status === 'up' && b.v.status === 'up';
  return svg('line', { ...ends(a, b), class: `peer ${up ? 'up' : 'unreachable'}` });
}

/** One node: a circle coloured by status, its alias under it, details on hover. */
function node(at, n, kind) {
  const r = kind === 'hub' ? 22 : 12;
  const tip = `${n.alias} (${n.role}): ${n.status}, ${n.cpuPct}% CPU, ${n.framesPerSec} frames/s`;
  return svg(
    'g',
    { class: `node ${kind} ${n.status}`, 'data-alias': n.alias, 'data-status': n.status },
    svg('title', {}, tip),
    svg('circle', { cx: at.x, cy: at.y, r }),
    svg('text', { x: at.x, y: at.y + r + 13, 'text-anchor': 'middle' }, n.alias),
  );
}
