import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';

/**
 * File names inside a security directory (docs/security.md, "Layout"). `<node>.crt` and `<node>.key`
 * sit next to these, one pair per node.
 */
export const SecurityFiles = {
  /** The overlay CA certificate (PEM), shared by every member. */
  CA_CERT: 'ca.crt',
  /** The overlay CA private key (PEM, 0600): only where certificates are issued or revoked. */
  CA_KEY: 'ca.key',
  /** The private key that signs user tokens (PEM, 0600): only on nodes that log users in. */
  TOKEN_KEY: 'token.key',
  /** The public key that validates user tokens (PEM), shared by every member. */
  TOKEN_PUB: 'token.pub',
  /** Revoked node certificates (JSON), shared by every member. */
  REVOKED: 'revoked.json',
  /** The same revocations as a signed X.509 CRL (PEM), for other tools. */
  CRL: 'ca.crl',
  /** Ids of user tokens revoked before their expiry (JSON), written by the login front end, read by every member. */
  REVOKED_TOKENS: 'revoked-tokens.json',
  /** Users: name → scrypt hash, salt and roles (JSON, 0600). */
  USERS: 'users.json',
  /** Optional access rules (JSON). */
  ACL: 'acl.json',
  /** Directory of named secrets, one file each. */
  SECRETS: 'secrets',
} as const;

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const RESERVED = new Set(['ca', 'token']);

/**
 * Checks a node (or user, or secret) name: letters, digits, `.`, `_`, `-`, at most 63 characters, not
 * starting with a dot, so it is safe as a file name and a certificate common name.
 * @throws L8_ERR_INVALID_ARGUMENT
 */
export function checkName(name: string, what = 'node'): void {
  if (!NODE_NAME.test(name) || (what === 'node' && RESERVED.has(name))) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `invalid ${what} name ${JSON.stringify(name)}`);
  }
}

/** The paths of a node's certificate and key in `dir`. */
export function nodeFiles(dir: string, name: string): { cert: string; key: string } {
  checkName(name);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** The SHA-256 fingerprint of a certificate as lowercase hex without colons. */
export function fingerprintOf(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

/** The serial number of a certificate as lowercase hex without leading zeros. */
export function serialOf(cert: X509Certificate): string {
  return normalizeSerial(cert.serialNumber);
}

/** Lowercase hex without leading zeros, so serials from any tool compare equal. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}

/** The common name of a certificate's subject, or '' when it has none. */
export function commonNameOf(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? '' : line.slice(3);
}

/** The role a node certificate grants: a switch (`vnet`) or a client (`vnic`). */
export type CertRole = 'vnic' | 'vnet';

/**
 * The role written in a certificate's subject (`OU=vnet` or `OU=vnic`, by `issueNodeCert`). Anything else
 * (no unit, several units, another unit, a multi-valued name) counts as `vnic`: least privilege, so a
 * certificate issued before roles existed, or by another tool, can never act as a VNet.
 */
export function roleOf(cert: X509Certificate): CertRole {
  const units = cert.subject.split('\n').filter((l) => l.startsWith('OU='));
  return units.length === 1 && units[0] === 'OU=vnet' ? 'vnet' : 'vnic';
}
