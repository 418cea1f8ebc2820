import type { X509Certificate } from 'node:crypto';
import { type L8Error, l8error } from '@layer8/protocol';
import { mismatchError } from '../link/provider-mismatch.ts';
import type { PeerIdentity } from '../provider.ts';
import { commonNameOf, fingerprintOf, roleOf, serialOf } from './layout.ts';
import type { RevocationList } from './revocation.ts';

/** What a peer certificate is checked against: the overlay CA and the current revocation list. */
export interface TrustAnchor {
  readonly ca: X509Certificate;
  readonly revoked: RevocationList;
  /** Told the fingerprint and serial of each certificate that passed, so later rechecks can match either. */
  readonly accepted?: (fingerprint: string, serial: string) => void;
}

/**
 * Checks that `cert` was issued by the overlay CA (name and signature), is not a CA itself, is within its
 * validity period and is not revoked; returns the peer's identity, with the role its subject grants
 * (`OU=vnet`, else `vnic`) and the end of its validity.
 * @throws L8_ERR_AUTH, L8_ERR_CERT_EXPIRED, L8_ERR_CERT_REVOKED
 */
export function checkPeerCertificate(cert: X509Certificate, trust: TrustAnchor, now = Date.now()): PeerIdentity {
  if (!cert.checkIssued(trust.ca) || !cert.verify(trust.ca.publicKey)) throw notOurCa(commonNameOf(cert));
  if (cert.ca) throw l8error('L8_ERR_AUTH', 'a CA certificate cannot identify a node');
  const notAfter = Date.parse(cert.validTo);
  if (now < Date.parse(cert.validFrom) || now > notAfter) {
    throw l8error(
      'L8_ERR_CERT_EXPIRED',
      `certificate of ${commonNameOf(cert)} is valid only from ${cert.validFrom} to ${cert.validTo}`,
    );
  }
  if (trust.revoked.has(cert)) throw l8error('L8_ERR_CERT_REVOKED', `certificate of ${commonNameOf(cert)} is revoked`);
  const fingerprint = fingerprintOf(cert);
  trust.accepted?.(fingerprint, serialOf(cert));
  return { provider: 'tls', subject: commonNameOf(cert), fingerprint, role: roleOf(cert), notAfter };
}

const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED']);
const REVOKED = new Set(['CERT_REVOKED', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED']);
const AUTH = /CERT|_CA$|SIGNATURE|ISSUER|PURPOSE/;
/** OpenSSL's verify codes for a chain that does not lead to the trusted CA: another overlay's certificate. */
const NOT_OUR_CA = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * The refusal of a certificate the overlay CA did not sign, the same text on TCP (from OpenSSL's verify
 * code, `detail`) and on a unix socket (from our own check): `certificate of NAME is not signed by this
 * overlay's CA`, NAME being `the peer` where the certificate is not at hand.
 */
export function notOurCa(name: string, detail?: string, cause?: unknown): L8Error {
  const why = detail === undefined ? '' : ` (${detail})`;
  const message = `certificate of ${name || 'the peer'} is not signed by this overlay's CA${why}`;
  return l8error('L8_ERR_AUTH', message, cause === undefined ? {} : { cause });
}

/**
 * Maps an error of node:tls during the handshake to a Layer8 code: an expired certificate to
 * `L8_ERR_CERT_EXPIRED`, any other certificate verification failure (unknown CA, no certificate, bad
 * signature) to `L8_ERR_AUTH`, and the rest (a peer that does not speak TLS, a reset) to
 * `L8_ERR_HANDSHAKE` (see {@link notTlsPeer} for the dialling side).
 */
export function tlsFailure(err: Error & { code?: string }, name = 'the peer'): L8Error {
  const code = err.code ?? '';
  const message = `TLS handshake failed: ${err.message}`;
  if (NOT_OUR_CA.has(code)) return notOurCa(name, code, err);
  if (EXPIRED.has(code)) return l8error('L8_ERR_CERT_EXPIRED', message, { cause: err });
  if (REVOKED.has(code)) return l8error('L8_ERR_CERT_REVOKED', message, { cause: err });
  if (AUTH.test(code)) return l8error('L8_ERR_AUTH', message, { cause: err });
  return l8error('L8_ERR_HANDSHAKE', message, { cause: err });
}

/**
 * For the dialling side: a TLS failure because the server answered with bytes that are not TLS (a
 * dev-provider VNet, or not Layer8 at all) becomes `L8_ERR_AUTH` with a hint, since retrying cannot
 * help; other errors are returned as they are.
 */
export function notTlsPeer(e: L8Error): L8Error {
  const code = (e.cause as { code?: string } | undefined)?.code ?? '';
  if (!NOT_TLS.has(code)) return e;
  return mismatchError({ peerProvider: 'plain', detail: code }, 'the peer', e.cause);
}

/** OpenSSL's codes for a peer whose bytes are not a TLS record. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/**
 * The refusal for a TLS socket that OpenSSL did not authorize: `authorizationError` (a verify code such as
 * `CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE` or `INVALID_PURPOSE`; typed as an Error by
 * @types/node, a string at run time) mapped like {@link tlsFailure}, but never milder than `L8_ERR_AUTH`.
 */
export function authorizationFailure(reason: Error | string | null | undefined, cert?: X509Certificate): L8Error {
  const code = typeof reason === 'string' ? reason : ((reason as { code?: string } | null)?.code ?? String(reason));
  const name = cert === undefined ? undefined : commonNameOf(cert);
  const e = tlsFailure(Object.assign(new Error(`peer certificate not authorized: ${code}`), { code }), name);
  return e.code === 'L8_ERR_HANDSHAKE' ? l8error('L8_ERR_AUTH', e.message, { cause: e.cause }) : e;
}
