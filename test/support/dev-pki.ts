/** One development PKI per test file (RSA key generation is the slow part), plus small helpers. */
import { createSign, randomBytes } from 'node:crypto';
import { createDevPki, type DevPki } from '../../dev-pki/hierarchy.js';
import { loadTrustAnchors, type TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { challengeSignedData, identitySignedData } from '../../protocol/signed-data.js';

let shared: Promise<DevPki> | undefined;

/** The development PKI of this test file, created on first use. */
export function devPki(): Promise<DevPki> {
  shared ??= createDevPki();
  return shared;
}

/** Trust anchors of both user-auth CA generations. */
export function userAuthAnchors(pki: DevPki): TrustAnchors {
  return loadTrustAnchors(pki.userAuthCas.map((ca) => ca.der));
}

/** A fresh challenge nonce (256 bits, base64url). */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/** Signs the challenge as a card would (RSASSA-PKCS1-v1_5 / SHA-256 over the signed data). */
export function signChallenge(privateKeyPem: string, origin: string, nonce: string): Buffer {
  return createSign('sha256').update(challengeSignedData(origin, nonce)).sign(privateKeyPem);
}

/** Signs an identity challenge as a card would, with the signing key (RSASSA-PKCS1-v1_5 / SHA-256 over identitySignedData). */
export function signIdentity(privateKeyPem: string, origin: string, nonce: string): Buffer {
  return createSign('sha256').update(identitySignedData(origin, nonce)).sign(privateKeyPem);
}

export const ORIGIN = 'https://login.example.jp';
