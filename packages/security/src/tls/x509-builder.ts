import { type KeyObject, randomBytes, sign } from 'node:crypto';
import { bits, bool, explicit, int, ipBytes, octets, oid, seq, set, time, tlv, utf8 } from './der.ts';
import { algorithmOf, digestOf, keyId, spkiDer } from './keys.ts';

/**
 * Builds X.509 v3 certificates and v2 CRLs (RFC 5280) with node:crypto signatures. Written here rather
 * than taken from @peculiar/x509, whose v2 needs a global `reflect-metadata` polyfill.
 */

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
  commonName: '2.5.4.3',
  organizationalUnit: '2.5.4.11',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** The extended key usages a node certificate can carry. */
export type NodeUsage = 'serverAuth' | 'clientAuth';

/** What a certificate says. The issuer is a common name (`CN=…`); the subject may add one unit (`OU=…`). */
export interface CertificateSpec {
  /** Hex serial number, positive. */
  readonly serial: string;
  readonly issuer: string;
  readonly subject: string;
  /** The subject's organizational unit: where a node certificate states its role (`vnet`, `vnic`). */
  readonly unit?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** The issuer's private key (the subject's own for a self-signed CA). */
  readonly signingKey: KeyObject;
  /** The issuer's public key, for the authority key identifier. */
  readonly issuerKey: KeyObject;
  /** True for the CA certificate, false for a node (TLS server and client). */
  readonly ca: boolean;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  /** Extended key usages of a node certificate. Default both: every member is TLS server and client. */
  readonly usages?: readonly NodeUsage[];
}

/** A revoked certificate in a CRL. */
export interface CrlEntry {
  readonly serial: string;
  readonly revokedAt: Date;
}

/** A random positive 128-bit serial number (hex). */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** The PEM of a certificate built from `spec`. */
export function buildCertificate(spec: CertificateSpec): string {
  const algId = signatureAlgorithm(spec.signingKey);
  const tbs = seq(
    explicit(0, int(2)),
    int(spec.serial),
    algId,
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject, spec.unit),
    spkiDer(spec.publicKey),
    explicit(3, seq(...extensions(spec))),
  );
  return pem(signed(tbs, algId, spec.signingKey), 'CERTIFICATE');
}

/** The PEM of a CRL issued by `issuer` listing `entries`, valid until `nextUpdate`. */
export function buildCrl(
  issuer: string,
  signingKey: KeyObject,
  entries: readonly CrlEntry[],
  nextUpdate: Date,
): string {
  const algId = signatureAlgorithm(signingKey);
  const revoked = entries.map((e) => seq(int(e.serial), time(e.revokedAt)));
  const tbs = seq(
    int(1),
    algId,
    name(issuer),
    time(new Date()),
    time(nextUpdate),
    ...(revoked.length > 0 ? [seq(...revoked)] : []),
  );
  return pem(signed(tbs, algId, signingKey), 'X509 CRL');
}

function signatureAlgorithm(key: KeyObject): Buffer {
  return seq(oid(algorithmOf(key) === 'P-256' ? OID.ecdsaSha256 : OID.ed25519));
}

function signed(tbs: Buffer, algId: Buffer, key: KeyObject): Buffer {
  return seq(tbs, algId, bits(sign(digestOf(algorithmOf(key)), tbs, key)));
}

/** An RDNSequence: the unit first (the wider scope), then the common name, one attribute per RDN. */
function name(cn: string, unit?: string): Buffer {
  const ou = unit === undefined ? [] : [set(seq(oid(OID.organizationalUnit), utf8(unit)))];
  return seq(...ou, set(seq(oid(OID.commonName), utf8(cn))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function extensions(spec: CertificateSpec): Buffer[] {
  const common = [
    extension(OID.subjectKeyId, false, octets(keyId(spec.publicKey))),
    extension(OID.authorityKeyId, false, seq(tlv(0x80, keyId(spec.issuerKey)))),
  ];
  if (spec.ca) {
    // keyCertSign (bit 5) and cRLSign (bit 6): one byte, 1 unused bit.
    return [extension(OID.basicConstraints, true, seq(bool(true), int(0))), keyUsage(0x06, 0x01), ...common];
  }
  return [
    extension(OID.basicConstraints, true, seq()),
    keyUsage(0x80, 0x07),
    extension(OID.extKeyUsage, false, seq(...(spec.usages ?? ['serverAuth', 'clientAuth']).map((u) => oid(OID[u])))),
    extension(OID.subjectAltName, false, seq(...altNames(spec))),
    ...common,
  ];
}

/** A critical keyUsage extension with one flag byte and its count of unused bits. */
function keyUsage(flags: number, unused: number): Buffer {
  return extension(OID.keyUsage, true, tlv(0x03, Buffer.from([unused, flags])));
}

function altNames(spec: CertificateSpec): Buffer[] {
  const dns = (spec.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii')));
  return [...dns, ...(spec.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip)))];
}

function pem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
