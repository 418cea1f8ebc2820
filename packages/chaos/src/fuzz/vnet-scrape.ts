import { l8error, toL8Error } from '@layer8/protocol';
import { bump, type TargetStats } from './target-config.ts';

/**
 * A running VNet's own counters as its Prometheus endpoint shows them (`l8 vnet start --metrics`,
 * docs/operations.md): what the fuzzer reads of a VNet it did not start. Memory is not among them
 * (`rss` and `heapUsed` are null): the endpoint shows the VNet's counters, not the process's.
 */

/** One sample of the text exposition format: metric name, labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition; comments and lines it cannot read are skipped. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = line.startsWith('#') ? null : LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** `no_service` → `noService`: a label value back to the VNet.drops field it came from. */
function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A VNet's counters from its samples: drops by reason (`layer8_vnet_drops_total`), link setups it
 * refused by code (`layer8_vnet_handshakes_total{result="refused"}`) and frames in.
 * @throws L8_ERR_DECODE when the samples are not a VNet's
 */
export function vnetStatsOf(samples: readonly Sample[]): TargetStats {
  const drops: Record<string, number> = {};
  const refusedSetups: Record<string, number> = {};
  let framesIn = 0;
  let seen = false;
  for (const s of samples) {
    if (s.name === 'layer8_vnet_drops_total') {
      seen = true;
      bump(drops, camelCase(s.labels.reason ?? ''), s.value);
    } else if (s.name === 'layer8_vnet_handshakes_total' && s.labels.result === 'refused')
      bump(refusedSetups, s.labels.code ?? 'none', s.value);
    else if (s.name === 'layer8_vnet_frames_total' && s.labels.direction === 'in') framesIn += s.value;
  }
  if (!seen) throw l8error('L8_ERR_DECODE', 'the endpoint shows no layer8_vnet_drops_total: not the metrics of a VNet');
  return { rss: null, heapUsed: null, framesIn, drops, closes: {}, refusedSetups, faults: {} };
}

/**
 * Reads a VNet's counters from `url` (its `/metrics`).
 * @throws L8_ERR_CONNECT when it cannot be read within `timeoutMs`; L8_ERR_DECODE when it is not a VNet's
 */
export async function scrapeVNet(url: string, timeoutMs: number): Promise<TargetStats> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (err) {
    throw l8error('L8_ERR_CONNECT', `cannot read ${url}: ${toL8Error(err).message}`, { cause: err });
  }
  return vnetStatsOf(parseSamples(text));
}
