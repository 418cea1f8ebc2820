/**
 * The entities panel: follows one L8QL query of a stateful service over `/ws` (snapshot, then changes) and
 * shows the result and the changes as they arrive (docs/gateway.md, "WebSocket push").
 */
import { call } from './auth.js';
import { clock, h, put, table } from './dom.js';

const MAX_LOG = 30;
const MAX_FIELDS = 8;

/** The followed query, what it holds (key → { version, item }) and the log of changes. */
export class Entities {
  #ws;
  #n = 0;
  #id = '';
  #target;
  #items = new Map();
  #log = [];
  #routes;
  /** Changes are applied one at a time, in arrival order (one may wait for a fetch). */
  #chain = Promise.resolve();

  constructor() {
    document.getElementById('entity-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#follow();
    });
    document.getElementById('entity-service').addEventListener('change', () => this.#defaultQuery());
  }

  /** Follows the chosen query on `ws` (a new connection: subscriptions do not survive one). */
  async attach(ws) {
    this.#ws = ws;
    this.#routes ??= await this.#loadRoutes();
    this.#follow();
  }

  /** Handles a message of the push endpoint; false when it is not the panel's. */
  onMessage(m) {
    if (m.id !== this.#id) return false;
    if (m.op === 'snapshot') this.#snapshot(m);
    else if (m.op === 'change') this.#chain = this.#chain.then(() => this.#change(m)).catch(() => undefined);
    else if (m.op === 'error') status(`${m.code}: ${m.message}`, 'error');
    return true;
  }

  /** The services that can be followed (stateful, with GET), in the service list. */
  async #loadRoutes() {
    const r = await call('GET', '/l8');
    const routes = (r.json.services ?? []).filter((s) => s.stateful && s.actions.includes('get'));
    put(
      'entity-service',
      routes.map((s, i) => h('option', { value: String(i) }, `${s.name} (area ${s.area})`)),
    );
    this.#defaultQuery(routes);
    return routes;
  }

  #defaultQuery(routes = this.#routes) {
    const s = routes?.[Number(document.getElementById('entity-service').value)];
    if (s !== undefined) document.getElementById('entity-q').value = `select * from ${s.type.split('.').pop()}`;
  }

  #follow() {
    const s = this.#routes?.[Number(document.getElementById('entity-service').value)];
    if (s === undefined || this.#ws?.readyState !== WebSocket.OPEN) return;
    if (this.#id !== '') this.#ws.send(JSON.stringify({ op: 'unsubscribe', id: this.#id }));
    this.#id = `entities-${++this.#n}`;
    this.#target = s;
    const q = document.getElementById('entity-q').value.trim();
    this.#ws.send(JSON.stringify({ op: 'subscribe', id: this.#id, area: s.area, service: s.name, q }));
    status(`following ${s.name}…`);
  }

  #snapshot(m) {
    this.#items = new Map(m.items.map((i) => [i.key, { version: i.version, item: i.item }]));
    this.#note('snapshot', `${m.total} items`);
    status(`following ${this.#target.name}: ${m.total} items, live`);
    this.#render();
  }

  async #change(m) {
    if (m.kind === 'delete') this.#items.delete(m.key);
    else this.#items.set(m.key, { version: m.version, item: m.item ?? (await this.#patched(m)) });
    const what = m.changes === undefined ? '' : m.changes.map((c) => c.path).join(', ');
    this.#note(`${m.kind} ${m.key} v${m.version}`, what, m.key);
    this.#render(m.key);
  }

  /** The item after a change set: top-level fields applied here, anything deeper fetched again. */
  async #patched(m) {
    const held = this.#items.get(m.key);
    const flat = m.changes.every((c) => /^[a-z0-9_]+$/.test(c.path));
    if (held === undefined || held.version !== m.fromVersion || !flat) {
      const t = this.#target;
      const r = await call('GET', `/l8/${t.area}/${encodeURIComponent(t.name)}/${encodeURIComponent(m.key)}`);
      return r.json.item ?? {};
    }
    const item = { ...held.item };
    for (const c of m.changes) {
      const name = c.path.replace(/_([a-z])/g, (_s, ch) => ch.toUpperCase());
      if (c.op === 'delete') delete item[name];
      else item[name] = c.value;
    }
    return item;
  }

  #note(what, detail, key) {
    this.#log = [{ at: Date.now(), what, detail, key }, ...this.#log].slice(0, MAX_LOG);
    const li = (e) =>
      h('li', { 'data-key': e.key }, h('time', {}, clock(e.at)), ' ', h('strong', {}, e.what), ` ${e.detail}`);
    put('entity-log', this.#log.map(li));
  }

  #render(changed) {
    const rows = [...this.#items].map(([key, { version, item }]) =>
      h(
        'tr',
        { 'data-key': key, class: key === changed ? 'flash' : '' },
        h('td', {}, key),
        h('td', { class: 'num' }, version),
        h('td', { class: 'fields' }, summary(item)),
      ),
    );
    put('entities', table(['key', 'version', 'fields'], rows));
  }
}

/** The first fields of an item that hold something, as `name: value`. */
function summary(item) {
  const empty = (v) => v === '' || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  return Object.entries(item)
    .filter(([, v]) => !empty(v))
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' · ');
}

function status(text, cls = 'muted') {
  const el = document.getElementById('entity-status');
  el.textContent = text;
  el.className = cls;
}
