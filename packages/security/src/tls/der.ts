import { isIPv4, isIPv6 } from 'node:net';
import { l8error } from '@layer8/protocol';

/**
 * A minimal DER encoder: just the ASN.1 types an X.509 certificate and CRL need (ITU-T X.690 §8, §10).
 * Each function returns the complete TLV.
 */

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with tag byte `tag` around `content`. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

/** SEQUENCE of the given encodings. */
export const seq = (...items: Buffer[]): Buffer => tlv(0x30, ...items);

/** SET of the given encodings (callers pass one item, so no sorting is needed). */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);

/** Context-specific constructed tag `[n]` (EXPLICIT). */
export const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);

/** BOOLEAN. */
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));

/** OCTET STRING. */
export const octets = (b: Buffer): Buffer => tlv(0x04, b);

/** UTF8String. */
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

/** BIT STRING with no unused bits. */
export const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);

/** INTEGER from a non-negative number or a hex string (a serial number). */
export function int(v: number | string): Buffer {
  let hex = typeof v === 'number' ? v.toString(16) : v.replace(/^0+(?=.)/, '');
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const b = Buffer.from(hex, 'hex');
  return tlv(0x02, (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 §4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

/** The 4 or 16 bytes of an IP address for a subjectAltName. @throws L8_ERR_INVALID_ARGUMENT */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip) || ip.includes('.')) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${ip} is not an IP address (write IPv4-mapped addresses as IPv4)`);
  }
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(all.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}
