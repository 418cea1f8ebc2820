/**
 * DOM helpers of the dashboard. Every value from the gateway goes in as text (`textContent`, attributes),
 * never as HTML.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element: `h('td', { class: 'num' }, '12')`. Attributes that are undefined or false are left out. */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, like {@link h}. */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces the children of the element `id`; returns it. */
export function put(id, ...children) {
  const el = document.getElementById(id);
  el.replaceChildren(...children.flat());
  return el;
}

/** A table: a header row of `heads`, then `rows` (each a `tr`). */
export function table(heads, rows) {
  return [
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        heads.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  ];
}

/** A number in few characters: 950, 1.2k, 3.4M. */
export function short(n) {
  if (n < 1000) return String(Math.round(n * 10) / 10);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** Bytes in few characters: 950 B, 1.2 kB, 3.4 MB. */
export function bytes(n) {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** A duration in seconds as `3d 4h`, `2h 5m`, `4m 10s` or `12s`. */
export function duration(s) {
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [Math.floor(s) % 60, 's'],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .map(([v, u]) => `${v}${u}`)
    .join(' ');
}

/** The local time of an epoch ms, `14:03:07`. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}
