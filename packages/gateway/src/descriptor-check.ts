import { createHash } from 'node:crypto';
import type { ActionName, WebDescriptor } from '@layer8/services';

/** Bounds on what one node may advertise (a peer's answer is hostile input until checked). */
export const DESCRIPTOR_LIMITS = {
  /** Descriptors per node. */
  maxServices: 1024,
  /** Bytes of a service name (the overlay's own limit). */
  maxName: 255,
  /** Characters of the base64 file set of one descriptor. */
  maxFiles: 4 * 1024 * 1024,
  /** Fields of a primary key. */
  maxKeyFields: 16,
} as const;

const ACTIONS: ReadonlySet<string> = new Set<ActionName>(['post', 'put', 'patch', 'delete', 'get']);

/** Result of reading a node's `l8.web` answer: the descriptors that passed, and how many did not. */
export interface CheckedAnswer {
  readonly descriptors: WebDescriptor[];
  readonly refused: number;
}

/**
 * The well-formed descriptors of a `l8.web` answer: each field of the right type and within
 * {@link DESCRIPTOR_LIMITS}, actions among the five, names unique per (area, name). A malformed answer
 * gives no descriptor; a malformed descriptor is left out and counted.
 */
export function checkAnswer(answer: unknown): CheckedAnswer {
  const list = (answer as { services?: unknown } | null)?.services;
  if (!Array.isArray(list)) return { descriptors: [], refused: 1 };
  const out = new Map<string, WebDescriptor>();
  let refused = Math.max(0, list.length - DESCRIPTOR_LIMITS.maxServices);
  for (const item of list.slice(0, DESCRIPTOR_LIMITS.maxServices)) {
    const d = checkDescriptor(item);
    const k = d && `${d.area}/${d.name}`;
    if (d === undefined || k === undefined || out.has(k)) refused++;
    else out.set(k, d);
  }
  return { descriptors: [...out.values()], refused };
}

/** One descriptor, checked and copied (undefined when malformed). */
export function checkDescriptor(v: unknown): WebDescriptor | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const d = v as Record<string, unknown>;
  if (!isName(d.name) || !isArea(d.area) || typeof d.type !== 'string' || d.type.length === 0) return undefined;
  if (!Array.isArray(d.actions) || !d.actions.every((a) => typeof a === 'string' && ACTIONS.has(a))) return undefined;
  if (!Number.isSafeInteger(d.maxLimit) || (d.maxLimit as number) < 1 || typeof d.stateful !== 'boolean') {
    return undefined;
  }
  if (!isKey(d.primaryKey) || typeof d.files !== 'string' || d.files.length > DESCRIPTOR_LIMITS.maxFiles) {
    return undefined;
  }
  return {
    name: d.name,
    area: d.area,
    type: d.type,
    actions: [...new Set(d.actions as ActionName[])],
    maxLimit: d.maxLimit as number,
    stateful: d.stateful,
    primaryKey: [...d.primaryKey],
    files: d.files,
  };
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && Buffer.byteLength(v) <= DESCRIPTOR_LIMITS.maxName;
}

function isArea(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
}

function isKey(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= DESCRIPTOR_LIMITS.maxKeyFields && v.every((f) => typeof f === 'string');
}

/** A stable text that two descriptors share exactly when their models are the same (type and files). */
export function modelKey(d: WebDescriptor): string {
  return createHash('sha256').update(`${d.type}|${d.files}`).digest('hex');
}

/** A stable text that two descriptors share exactly when they publish the same thing the same way. */
export function fingerprint(d: WebDescriptor): string {
  const actions = [...d.actions].sort().join(',');
  const text = `${d.type}|${actions}|${d.maxLimit}|${d.stateful}|${d.primaryKey.join(',')}|${d.files}`;
  return createHash('sha256').update(text).digest('hex');
}
