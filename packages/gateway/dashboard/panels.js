/**
 * The tables of the dashboard: summary cards, nodes, services, recent events and error counts, each drawn
 * whole from one view (they are small).
 */
import { bytes, clock, duration, h, put, short, table } from './dom.js';

/** Draws every panel of `view`; `gone` are nodes that left the health table since the page opened. */
export function renderPanels(view, gone) {
  renderSummary(view, gone);
  renderNodes(view, gone);
  renderServices(view);
  renderEvents(view);
  renderErrors(view.gateway);
}

/** The HTTP answers with an error status (4xx and 5xx). */
function httpErrors(g) {
  return Object.entries(g.byStatus)
    .filter(([status]) => Number(status) >= 400)
    .reduce((sum, [, n]) => sum + n, 0);
}

function card(label, value, cls = '') {
  return h('div', { class: `card ${cls}` }, h('strong', {}, value), h('span', {}, label));
}

function renderSummary(view, gone) {
  const t = view.totals;
  const errors = httpErrors(view.gateway);
  put(
    'summary',
    card('VNets', view.vnets.length),
    card('nodes up', t.up, 'up'),
    card('unreachable or gone', t.unreachable + gone.length, t.unreachable + gone.length > 0 ? 'down' : ''),
    card('frames/s', short(t.framesPerSec)),
    card('bytes/s', bytes(t.bytesPerSec)),
    card('HTTP requests', short(view.gateway.requests)),
    card('HTTP errors', short(errors), errors > 0 ? 'down' : ''),
  );
}

const NODE_HEADS = ['node', 'role', 'VNet', 'status', 'CPU %', 'RSS MB', 'loop ms', 'frames/s', 'bytes/s', 'uptime'];

function renderNodes(view, gone) {
  const vnetAlias = new Map(view.vnets.map((v) => [v.id, v.alias]));
  const row = (n) =>
    h(
      'tr',
      { 'data-alias': n.alias, 'data-status': n.status, class: n.status },
      h('td', { title: n.id }, n.alias),
      h('td', {}, n.role),
      h('td', {}, vnetAlias.get(n.vnet) ?? n.vnet.slice(0, 8)),
      h('td', {}, h('span', { class: `dot ${n.status}` }), n.status),
      [n.cpuPct, n.rssMB, n.loopDelayMs, short(n.framesPerSec), bytes(n.bytesPerSec)].map((x) =>
        h('td', { class: 'num' }, x),
      ),
      h('td', { class: 'num' }, duration(n.uptimeS)),
      h(
        'td',
        {},
        n.services
          .filter((s) => !s.service.endsWith('.changes'))
          .map((s) => s.service)
          .join(', '),
      ),
    );
  put('nodes', table([...NODE_HEADS, 'services'], [...view.nodes, ...gone].map(row)));
}

function renderServices(view) {
  const chip = (i) => h('span', { class: `chip ${i.status}`, title: i.node }, `${i.alias} · ${i.state}`);
  const row = (s) =>
    h(
      'tr',
      { 'data-service': s.service },
      h('td', {}, s.service),
      h('td', { class: 'num' }, s.area),
      h('td', { class: 'fields' }, s.instances.map(chip)),
    );
  put('services', table(['service', 'area', 'instances'], view.services.map(row)));
}

function renderEvents(view) {
  const item = (e) =>
    h('li', { class: e.type }, h('time', {}, clock(e.at)), ' ', h('strong', {}, e.alias), ` ${e.type}`);
  const items = view.events.slice(0, 20).map(item);
  put('events', items.length > 0 ? items : h('li', { class: 'muted' }, 'no status change yet'));
}

/** HTTP answers by status, then the push endpoint's and the directory's failure counters. */
function renderErrors(g) {
  const row = (group, name, n, bad) =>
    h('tr', { class: bad && n > 0 ? 'bad' : '' }, h('td', {}, group), h('td', {}, name), h('td', { class: 'num' }, n));
  const statuses = Object.entries(g.byStatus).map(([s, n]) => row('HTTP', s, n, Number(s) >= 400));
  const push = ['refused', 'slow', 'dead', 'badMessages', 'resyncs', 'dropped', 'gaps'].map((k) =>
    row('WebSocket', k, g.push[k], k !== 'resyncs' && k !== 'gaps'),
  );
  const dir = ['fetchFailures', 'refused', 'conflicts'].map((k) => row('directory', k, g.directory[k], true));
  put('errors', table(['where', 'what', 'count'], [...statuses, ...push, ...dir]));
}
