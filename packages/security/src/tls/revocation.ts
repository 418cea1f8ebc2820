import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import { loadCaSigner } from './ca.ts';
import { commonNameOf, fingerprintOf, nodeFiles, normalizeSerial, SecurityFiles, serialOf } from './layout.ts';
import { buildCrl } from './x509-builder.ts';

/** One revoked certificate in `revoked.json`. */
export interface RevokedEntry {
  /** The node's name (the certificate's CN) when known. */
  readonly name?: string;
  /** Serial number, lowercase hex. */
  readonly serial: string;
  /** SHA-256 fingerprint, lowercase hex. */
  readonly fingerprint: string;
  /** ISO 8601 time of revocation. */
  readonly revokedAt: string;
}

/** Revoked serials and fingerprints; a certificate matching either is refused. */
export class RevocationList {
  readonly #serials: Set<string>;
  readonly #fingerprints: Set<string>;

  /** A list over `entries`; serials and fingerprints may be given in any hex case. */
  constructor(entries: readonly Pick<RevokedEntry, 'serial' | 'fingerprint'>[] = []) {
    this.#serials = new Set(entries.map((e) => normalizeSerial(e.serial)).filter((s) => s !== ''));
    this.#fingerprints = new Set(
      entries.map((e) => e.fingerprint.replaceAll(':', '').toLowerCase()).filter((f) => f !== ''),
    );
  }

  /** Whether `cert` is on the list. */
  has(cert: X509Certificate): boolean {
    return this.matches(fingerprintOf(cert), serialOf(cert));
  }

  /** Whether a certificate known by its SHA-256 fingerprint (and serial, when known) is on the list. */
  matches(fingerprint: string, serial?: string): boolean {
    const bySerial = serial !== undefined && this.#serials.has(normalizeSerial(serial));
    return bySerial || this.#fingerprints.has(fingerprint.replaceAll(':', '').toLowerCase());
  }
}

/** The entries of a `revoked.json`; an absent file is an empty list. @throws L8_ERR_INVALID_ARGUMENT */
export function readRevokedEntries(file: string): RevokedEntry[] {
  if (!existsSync(file)) return [];
  try {
    const body = JSON.parse(readFileSync(file, 'utf8')) as { revoked?: RevokedEntry[] };
    return Array.isArray(body.revoked) ? body.revoked : [];
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `revocation list ${file} is not valid JSON`, { cause: err });
  }
}

/** The revocation list of a security directory. */
export function loadRevocations(dir: string): RevocationList {
  return new RevocationList(readRevokedEntries(join(dir, SecurityFiles.REVOKED)));
}

/**
 * Revokes the certificate of node `name` (or the certificate in the PEM file `name` names when it ends
 * in `.crt`/`.pem`): adds it to `revoked.json` and rewrites `ca.crl`, signed by the CA. Members pick up
 * the list on their next handshake once the file reaches them. Idempotent.
 * @returns the entry written.
 * @throws L8_ERR_INVALID_ARGUMENT when the certificate or the CA is missing.
 */
export function revoke(dir: string, name: string): RevokedEntry {
  const certFile = /\.(crt|pem)$/.test(name) ? name : nodeFiles(dir, name).cert;
  if (!existsSync(certFile)) throw l8error('L8_ERR_INVALID_ARGUMENT', `no certificate ${certFile} to revoke`);
  const cert = new X509Certificate(readFileSync(certFile));
  const file = join(dir, SecurityFiles.REVOKED);
  const entries = readRevokedEntries(file);
  let entry = entries.find((e) => e.fingerprint === fingerprintOf(cert));
  if (entry === undefined) {
    entry = {
      name: commonNameOf(cert),
      serial: serialOf(cert),
      fingerprint: fingerprintOf(cert),
      revokedAt: new Date().toISOString(),
    };
    entries.push(entry);
    writeFileSync(file, `${JSON.stringify({ revoked: entries }, null, 2)}\n`);
  }
  writeCrl(dir, entries);
  return entry;
}

/** Writes `ca.crl` for `entries`, valid for 30 days (only other tools read it; Layer8 reads the JSON). */
function writeCrl(dir: string, entries: readonly RevokedEntry[]): void {
  const ca = loadCaSigner(dir);
  const list = entries.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt) }));
  const pem = buildCrl(commonNameOf(ca.cert), ca.keys.privateKey, list, new Date(Date.now() + 30 * 86_400_000));
  writeFileSync(join(dir, SecurityFiles.CRL), pem);
}
