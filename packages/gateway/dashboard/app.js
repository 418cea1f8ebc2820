/**
 * The dashboard's entry: connects to `/ws` (authenticated by the access cookie), watches the `system` topic
 * and draws each view; asks to log in when the gateway refuses the watch, refreshing the session first.
 */
import { csrf, login, logout, refresh, session } from './auth.js';
import { Charts } from './charts.js';
import { Entities } from './entities.js';
import { renderPanels } from './panels.js';
import { renderTopology } from './topology.js';

const WATCH = 'system';
const AUTH_CODES = new Set(['L8_ERR_AUTH', 'L8_ERR_TOKEN_EXPIRED']);
const $ = (id) => document.getElementById(id);

const charts = new Charts();
const entities = new Entities();
/** Every node seen since the page opened, by id: those no longer in the view are shown as gone. */
const seen = new Map();
let ws;
let retryMs = 500;
let refreshed = false;
let attached = false;

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const socket = new WebSocket(url, ['l8.v1']);
  ws = socket;
  attached = false;
  setConn('connecting');
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    socket.send(JSON.stringify({ op: 'watch', id: WATCH, topic: 'system' }));
  });
  socket.addEventListener('message', (e) => onMessage(JSON.parse(e.data)));
  socket.addEventListener('close', (e) => {
    if (ws !== socket) return;
    if (!opened || e.code === 4001) void closedEarly();
    else retry();
  });
}

function retry() {
  setConn('offline');
  setTimeout(connect, retryMs);
  retryMs = Math.min(retryMs * 2, 10_000);
}

/**
 * The upgrade was refused (a missing, expired or revoked token: the gateway answers 401, which a browser
 * does not show), the gateway is unreachable, or the token ran out while connected (4001): refresh the
 * session once and connect again, else ask to log in; unreachable, try again later.
 */
async function closedEarly() {
  const s = await session();
  if (s === undefined || !s.auth || s.user !== undefined) return retry();
  if (!refreshed && csrf() !== '') {
    refreshed = true;
    if (await refresh()) return connect();
  }
  void refused({ code: 'L8_ERR_AUTH', message: '' });
}

/** Connects at once, or shows the login first when the gateway has AAA and this browser no session. */
async function start() {
  const s = await session();
  if (s?.auth && s.user === undefined && !(csrf() !== '' && (await refresh()))) {
    refreshed = true;
    return void refused({ code: 'L8_ERR_AUTH', message: '' });
  }
  connect();
}

/** Closes the connection on purpose (no reconnect). */
function disconnect() {
  const socket = ws;
  ws = undefined;
  socket?.close();
}

function onMessage(m) {
  if (m.id !== WATCH) {
    entities.onMessage(m);
    return;
  }
  if (m.op === 'system') show(m.view);
  else if (m.op === 'error') void refused(m);
}

function show(view) {
  retryMs = 500;
  refreshed = false;
  setConn('live');
  $('login').hidden = true;
  $('board').hidden = false;
  $('logout').hidden = csrf() === '';
  const gone = track(view);
  renderTopology('topology', view, gone);
  renderPanels(view, gone);
  charts.update('charts', view);
  if (!attached) {
    attached = true;
    void entities.attach(ws);
  }
}

/** Remembers every node seen; answers those that left the table, as `gone`. */
function track(view) {
  const now = new Set(view.nodes.map((n) => n.id));
  for (const n of view.nodes) seen.set(n.id, n);
  return [...seen.values()]
    .filter((n) => !now.has(n.id))
    .map((n) => ({ ...n, status: 'gone', cpuPct: 0, framesPerSec: 0, bytesPerSec: 0 }));
}

/** The watch was refused: refresh the session once, else ask to log in. */
async function refused(m) {
  disconnect();
  if (AUTH_CODES.has(m.code) && !refreshed) {
    refreshed = true;
    if (await refresh()) return connect();
  }
  setConn('logged out');
  if (!AUTH_CODES.has(m.code)) message(`${m.code}: ${m.message}`);
  $('board').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = m.code !== 'L8_ERR_FORBIDDEN';
}

async function onLogin(e) {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await login(f.get('user'), f.get('password'), f.get('totp'));
  if (!r.ok) {
    $('login-error').textContent = `${r.json.code ?? r.status}: ${r.json.message ?? 'login failed'}`;
    return;
  }
  $('login-error').textContent = '';
  message(`logged in as ${r.json.user}`);
  e.target.reset();
  $('logout').hidden = false;
  connect();
}

async function onLogout() {
  disconnect();
  await logout();
  refreshed = true;
  message('logged out');
  void refused({ code: 'L8_ERR_AUTH', message: '' });
}

function setConn(state) {
  $('conn').textContent = state;
  $('conn').dataset.state = state;
}

function message(text) {
  $('message').textContent = text;
}

$('login').addEventListener('submit', (e) => void onLogin(e));
$('logout').addEventListener('click', () => void onLogout());
void start();
