/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/): `VV-TTTT…-SSSS…-FF`,
 * lowercase hex, 55 characters. Parsed by hand on every traced request (a regular expression and the
 * OpenTelemetry API's validity checks cost several times more per request).
 */

/** The parts of a valid traceparent. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The trace flags byte (bit 0: sampled). */
  readonly flags: number;
}

/** Length of a traceparent. */
export const TRACEPARENT_LENGTH = 55;

/** The value of one lowercase hex digit at `i`, or -1 when it is not one. */
function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The byte of the two hex digits at `i`, or -1 when either is not one. */
function byteAt(s: string, i: number): number {
  const hi = hexAt(s, i);
  const lo = hexAt(s, i + 1);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/**
 * Whether `s[from, from + n)` is lowercase hex: 1 when some digit is not zero, 0 when all are zero,
 * -1 when one is not a hex digit.
 */
function hexRun(s: string, from: number, n: number): number {
  let any = 0;
  for (let i = from; i < from + n; i++) {
    const v = hexAt(s, i);
    if (v < 0) return -1;
    any |= v;
  }
  return any === 0 ? 0 : 1;
}

/**
 * The trace id, span id and flags of `value`, or undefined when it is no valid traceparent: not 55
 * characters, not lowercase hex where hex belongs, version `ff`, or an all-zero trace or span id.
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  const s = value;
  if (s === undefined || s.length !== TRACEPARENT_LENGTH) return undefined;
  if (s.charCodeAt(2) !== 45 || s.charCodeAt(35) !== 45 || s.charCodeAt(52) !== 45) return undefined;
  const version = byteAt(s, 0);
  const flags = byteAt(s, 53);
  if (version < 0 || version === 0xff || flags < 0) return undefined;
  if (hexRun(s, 3, 32) !== 1 || hexRun(s, 36, 16) !== 1) return undefined;
  return { traceId: s.slice(3, 35), spanId: s.slice(36, 52), flags };
}

/** The traceparent (version 00) of a trace id, a span id and flags. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}
