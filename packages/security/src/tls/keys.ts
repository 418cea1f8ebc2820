import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { l8error } from '@layer8/protocol';

/** Key algorithms of the overlay CA, node certificates and the token key. */
export type KeyAlgorithm = 'P-256' | 'Ed25519';

/** A key pair as node:crypto key objects. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh key pair of `alg`. */
export function generateKeys(alg: KeyAlgorithm): KeyPair {
  return alg === 'P-256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
}

/** Which of the supported algorithms a key uses. @throws L8_ERR_INVALID_ARGUMENT */
export function algorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'P-256';
  throw l8error('L8_ERR_INVALID_ARGUMENT', `unsupported key type ${key.asymmetricKeyType}; use P-256 or Ed25519`);
}

/** Loads a PEM private key and its public half. @throws L8_ERR_INVALID_ARGUMENT for other key types. */
export function keyPairFromPem(pem: string): KeyPair {
  const privateKey = createPrivateKey(pem);
  algorithmOf(privateKey);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The digest node:crypto `sign`/`verify` take for `alg`: SHA-256 for ECDSA, none for Ed25519. */
export function digestOf(alg: KeyAlgorithm): string | null {
  return alg === 'P-256' ? 'sha256' : null;
}

/** The PKCS#8 PEM of a private key. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The SPKI PEM of a public key. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The SPKI DER of a public key. */
export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** A key identifier: SHA-1 over the SPKI (RFC 5280 §4.2.1.2 allows any stable hash; only used to match). */
export function keyId(key: KeyObject): Buffer {
  return createHash('sha1').update(spkiDer(key)).digest();
}

/** Writes a file readable only by its owner (0600), replacing any old one atomically. */
export function writeSecretFile(path: string, text: string): void {
  writeFileAtomic(path, text, 0o600);
}

/**
 * Replaces `path` with `text` atomically: a reader (another process included) sees the old file or the
 * new one, never half of it. The new file gets `mode` (default 0644) before it takes the name.
 */
export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode, flag: 'wx' });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
