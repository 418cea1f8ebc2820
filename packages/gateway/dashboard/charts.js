/**
 * Small live charts: sparklines of the total frames/s and bytes/s and of each VNet's frames/s over the
 * last minutes, from the views received (one point per view).
 */
import { bytes, h, put, short, svg } from './dom.js';

/** How far back the charts go, ms. */
const WINDOW_MS = 5 * 60_000;
/** The shortest span drawn, ms: a young history fills the chart rather than a sliver of it. */
const MIN_SPAN_MS = 60_000;
const CW = 220;
const CH = 36;

/** The history of the series and their drawing. */
export class Charts {
  /** Series name → { label, format, points: [{ at, v }] }. */
  #series = new Map();

  /** Adds the figures of one view and draws the charts in the element `id`. */
  update(id, view) {
    this.#add('frames', 'frames/s, all VNets', short, view.at, view.totals.framesPerSec);
    this.#add('bytes', 'bytes/s, all VNets', (n) => `${bytes(n)}/s`, view.at, view.totals.bytesPerSec);
    for (const v of view.vnets) this.#add(`vnet:${v.id}`, `frames/s, ${v.alias}`, short, view.at, v.framesPerSec);
    put(
      id,
      [...this.#series.values()].map((s) => chart(s, view.at)),
    );
  }

  #add(name, label, format, at, v) {
    const s = this.#series.get(name) ?? { label, format, points: [] };
    s.points.push({ at, v });
    while (s.points.length > 0 && s.points[0].at < at - WINDOW_MS) s.points.shift();
    this.#series.set(name, s);
  }
}

/** One chart: its label, its latest value and the sparkline of its window. */
function chart(s, now) {
  const max = Math.max(1, ...s.points.map((p) => p.v));
  const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, now - (s.points[0]?.at ?? now)));
  const xy = s.points.map((p) => {
    const x = CW - ((now - p.at) / span) * CW;
    const y = CH - 2 - (p.v / max) * (CH - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const last = s.points.at(-1)?.v ?? 0;
  return h(
    'div',
    { class: 'chart' },
    h('div', { class: 'chart-head' }, h('span', {}, s.label), h('strong', {}, s.format(last))),
    svg(
      'svg',
      { viewBox: `0 0 ${CW} ${CH}`, class: 'spark', 'aria-label': `${s.label}, last ${Math.round(span / 60_000)} min` },
      svg('polyline', { points: xy.join(' ') }),
    ),
    h('div', { class: 'chart-foot muted' }, `max ${s.format(max)} over ${Math.round(span / 60_000)} min`),
  );
}
