import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import {
  algorithmOf,
  generateKeys,
  type KeyAlgorithm,
  type KeyPair,
  keyPairFromPem,
  privateKeyPem,
  publicKeyPem,
  writeSecretFile,
} from './keys.ts';
import { type CertRole, checkName, commonNameOf, fingerprintOf, nodeFiles, SecurityFiles, serialOf } from './layout.ts';
import { buildCertificate, newSerial } from './x509-builder.ts';

/** Options of {@link initSecurity}. */
export interface InitSecurityOptions {
  /** The security directory; created (mode 0700) when missing. */
  readonly dir: string;
  /** VNic nodes to issue certificates for now; more can be added with {@link issueNodeCert}. Default none. */
  readonly nodes?: readonly string[];
  /** VNets (switches) to issue certificates for now, with the role `vnet` (`OU=vnet`). Default none. */
  readonly vnets?: readonly string[];
  /** Key algorithm of the CA, the nodes and the token key. Default `P-256` (ECDSA). */
  readonly algorithm?: KeyAlgorithm;
  /** Validity of the node certificates in days. Default 825. The CA gets ten times as long. */
  readonly validDays?: number;
  /** Subject alternative names of the node certificates. Default {@link DEFAULT_SAN}. */
  readonly san?: SanOptions;
  /** Replaces an existing CA (every old certificate stops working). Default false. */
  readonly overwrite?: boolean;
}

/** DNS names and IP addresses written into a node certificate. */
export interface SanOptions {
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
}

/** Options of {@link issueNodeCert}. */
export interface IssueOptions {
  /** Validity in days from now; negative gives a certificate that has already expired. Default 825. */
  readonly validDays?: number;
  /** Subject alternative names. Default {@link DEFAULT_SAN} plus the node name as a DNS name. */
  readonly san?: SanOptions;
  /**
   * What the certificate lets its holder be (docs/security.md, "Roles"): `vnic` (the default) joins a
   * VNet as a client; `vnet` peers with other VNets and accepts VNics, but never hosts services.
   */
  readonly role?: CertRole;
}

/** What was issued: the files written and the certificate's serial and SHA-256 fingerprint (hex). */
export interface IssuedCert {
  readonly name: string;
  readonly role: CertRole;
  readonly certFile: string;
  readonly keyFile: string;
  readonly serial: string;
  readonly fingerprint: string;
}

/** What {@link initSecurity} created. */
export interface SecurityInitResult {
  readonly dir: string;
  readonly algorithm: KeyAlgorithm;
  /** SHA-256 fingerprint of the CA certificate (hex). */
  readonly caFingerprint: string;
  readonly nodes: readonly IssuedCert[];
}

/** The names every node certificate carries unless told otherwise: loopback addresses and `localhost`. */
export const DEFAULT_SAN: Required<SanOptions> = {
  dns: ['localhost'],
  ips: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '::1'],
};

const DAY_MS = 86_400_000;
const DEFAULT_VALID_DAYS = 825;

/**
 * Creates an overlay CA, the shared token key pair and an empty revocation list in `dir`, then a
 * certificate for each of `nodes` (role `vnic`) and `vnets` (role `vnet`). This is what `l8 security init` runs.
 * @throws L8_ERR_INVALID_ARGUMENT when `dir` already holds a CA and `overwrite` is not set, or a name is invalid.
 */
export async function initSecurity(options: InitSecurityOptions): Promise<SecurityInitResult> {
  const { dir } = options;
  const algorithm = options.algorithm ?? 'P-256';
  if (existsSync(join(dir, SecurityFiles.CA_CERT)) && options.overwrite !== true) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${dir} already holds an overlay CA; pass overwrite to replace it`);
  }
  const roles = nodeRoles(options);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = createCa(dir, algorithm, (options.validDays ?? DEFAULT_VALID_DAYS) * 10);
  writeTokenKeys(dir, algorithm);
  writeFileSync(join(dir, SecurityFiles.REVOKED), `${JSON.stringify({ revoked: [] }, null, 2)}\n`);
  const issue = { validDays: options.validDays ?? DEFAULT_VALID_DAYS, ...(options.san ? { san: options.san } : {}) };
  const nodes: IssuedCert[] = [];
  for (const [n, role] of roles) nodes.push(await issueNodeCert(dir, n, { ...issue, role }));
  return { dir, algorithm, caFingerprint: fingerprintOf(ca), nodes };
}

/** The names to issue with their roles, checked before anything is written. @throws L8_ERR_INVALID_ARGUMENT */
function nodeRoles(options: InitSecurityOptions): Map<string, CertRole> {
  const roles = new Map<string, CertRole>();
  const add = (names: readonly string[] | undefined, role: CertRole): void => {
    for (const n of names ?? []) {
      checkName(n);
      if (roles.has(n)) throw l8error('L8_ERR_INVALID_ARGUMENT', `node name ${n} is given twice`);
      roles.set(n, role);
    }
  };
  add(options.nodes, 'vnic');
  add(options.vnets, 'vnet');
  return roles;
}

function createCa(dir: string, alg: KeyAlgorithm, days: number): X509Certificate {
  const keys = generateKeys(alg);
  const now = Date.now();
  const cn = `Layer8 overlay CA ${randomBytes(4).toString('hex')}`;
  const pem = buildCertificate({
    serial: newSerial(),
    issuer: cn,
    subject: cn,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + days * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    issuerKey: keys.publicKey,
    ca: true,
  });
  writeFileSync(join(dir, SecurityFiles.CA_CERT), pem);
  writeSecretFile(join(dir, SecurityFiles.CA_KEY), privateKeyPem(keys.privateKey));
  return new X509Certificate(pem);
}

function writeTokenKeys(dir: string, alg: KeyAlgorithm): void {
  const keys = generateKeys(alg);
  writeSecretFile(join(dir, SecurityFiles.TOKEN_KEY), privateKeyPem(keys.privateKey));
  writeFileSync(join(dir, SecurityFiles.TOKEN_PUB), publicKeyPem(keys.publicKey));
}

/**
 * Issues (or re-issues) the certificate of node `name`, signed by the CA in `dir`, with the CA's key
 * algorithm: CN = `name`, OU = its role (`vnic` unless `options.role` says `vnet`), usable as TLS server
 * and client. Writes `<name>.crt` and `<name>.key` (0600).
 * @throws L8_ERR_INVALID_ARGUMENT when the name or role is invalid or `dir` holds no CA key.
 */
export async function issueNodeCert(dir: string, name: string, options: IssueOptions = {}): Promise<IssuedCert> {
  const files = nodeFiles(dir, name);
  const role = options.role ?? 'vnic';
  if (role !== 'vnic' && role !== 'vnet') throw l8error('L8_ERR_INVALID_ARGUMENT', `invalid role ${String(role)}`);
  const ca = loadCaSigner(dir);
  const keys = generateKeys(ca.algorithm);
  const pem = buildCertificate({
    serial: newSerial(),
    issuer: commonNameOf(ca.cert),
    subject: name,
    unit: role,
    ...validity(options.validDays ?? DEFAULT_VALID_DAYS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    issuerKey: ca.keys.publicKey,
    ca: false,
    dns: [...new Set([name, ...(options.san?.dns ?? DEFAULT_SAN.dns)])],
    ips: options.san?.ips ?? DEFAULT_SAN.ips,
  });
  writeFileSync(files.cert, pem);
  writeSecretFile(files.key, privateKeyPem(keys.privateKey));
  const cert = new X509Certificate(pem);
  return {
    name,
    role,
    certFile: files.cert,
    keyFile: files.key,
    serial: serialOf(cert),
    fingerprint: fingerprintOf(cert),
  };
}

/** The signing side of the overlay CA in `dir`. */
export interface CaSigner {
  readonly cert: X509Certificate;
  readonly keys: KeyPair;
  readonly algorithm: KeyAlgorithm;
}

/** The CA certificate and key pair of `dir`. @throws L8_ERR_INVALID_ARGUMENT when missing. */
export function loadCaSigner(dir: string): CaSigner {
  const certFile = join(dir, SecurityFiles.CA_CERT);
  const keyFile = join(dir, SecurityFiles.CA_KEY);
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${dir} holds no overlay CA (ca.crt and ca.key); run l8 security init`);
  }
  const keys = keyPairFromPem(readFileSync(keyFile, 'utf8'));
  return { cert: new X509Certificate(readFileSync(certFile)), keys, algorithm: algorithmOf(keys.privateKey) };
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notAfter = new Date(now + days * DAY_MS);
  return { notBefore: new Date(Math.min(now - 3_600_000, notAfter.getTime() - DAY_MS)), notAfter };
}
