/**
 * What a virtual card holds (certificates, keys, PINs), built from a development identity or
 * loaded from an identity folder written by dev-pki's writeDevIdentity. DEVELOPMENT ONLY.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createDevIdentity,
  createDevPki,
  type DevIdentity,
  IDENTITY_FILES,
  writeDevPki,
} from '../../dev-pki/hierarchy.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';

/** The contents of one virtual JPKI card. */
export interface CardIdentity {
  readonly label: string;
  readonly userAuthCertificate: Uint8Array;
  readonly userAuthKeyPem: string;
  readonly userAuthCaCertificate: Uint8Array;
  readonly signingCertificate: Uint8Array;
  readonly signingKeyPem: string;
  readonly signingCaCertificate: Uint8Array;
  readonly userAuthPin: string;
  readonly signingPin: string;
}

/** Raised when an identity folder is incomplete or unreadable. */
export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** The card contents of a development identity. */
export function cardIdentityOf(identity: DevIdentity): CardIdentity {
  return {
    label: identity.label,
    userAuthCertificate: identity.userAuth.der,
    userAuthKeyPem: identity.userAuth.privateKeyPem,
    userAuthCaCertificate: identity.userAuthCa.der,
    signingCertificate: identity.signing.der,
    signingKeyPem: identity.signing.privateKeyPem,
    signingCaCertificate: identity.signingCa.der,
    userAuthPin: identity.userAuthPin,
    signingPin: identity.signingPin,
  };
}

/** Loads the card contents from an identity folder (see IDENTITY_FILES). */
export async function loadIdentity(dir: string): Promise<CardIdentity> {
  try {
    const text = (name: string) => readFile(join(dir, name), 'utf8');
    const certificate = async (name: string) =>
      decodePemOrDer(await readFile(join(dir, name)), 'CERTIFICATE')[0] as Uint8Array;
    const card = JSON.parse(await text(IDENTITY_FILES.card)) as Record<string, unknown>;
    if (typeof card.userAuthPin !== 'string' || typeof card.signingPin !== 'string') {
      throw new IdentityError(`${IDENTITY_FILES.card} lacks the PINs`);
    }
    return {
      label: typeof card.label === 'string' ? card.label : dir,
      userAuthCertificate: await certificate(IDENTITY_FILES.userAuthCertificate),
      userAuthKeyPem: await text(IDENTITY_FILES.userAuthKey),
      userAuthCaCertificate: await certificate(IDENTITY_FILES.userAuthCa),
      signingCertificate: await certificate(IDENTITY_FILES.signingCertificate),
      signingKeyPem: await text(IDENTITY_FILES.signingKey),
      signingCaCertificate: await certificate(IDENTITY_FILES.signingCa),
      userAuthPin: card.userAuthPin,
      signingPin: card.signingPin,
    };
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    throw new IdentityError(`cannot load the card identity in ${dir}`, { cause: error });
  }
}

/** Where createVirtualCardIdentity put things. */
export interface CreatedCardIdentity {
  readonly identity: CardIdentity;
  /** The identity folder (load it again with loadIdentity). */
  readonly identityDir: string;
  /** PEM files of the user-auth CAs an OP must trust to accept this card's logins. */
  readonly trustAnchorFiles: readonly string[];
}

/**
 * Creates a fresh development PKI under `dir` (CA certificates = trust anchors, CRLs, manifest)
 * with one new card identity in `dir/identities/card`, issued by the newer user-auth CA.
 */
export async function createVirtualCardIdentity(
  dir: string,
  options: { userAuthPin?: string; now?: Date } = {},
): Promise<CreatedCardIdentity> {
  const now = options.now ?? new Date();
  const pki = await createDevPki({ now });
  const dev = await createDevIdentity({
    label: 'card',
    userAuthCa: pki.userAuthCas[1],
    signingCa: pki.signingCa,
    now,
    userAuthPin: options.userAuthPin,
  });
  const manifest = await writeDevPki(dir, { ...pki, identities: [dev] });
  return {
    identity: cardIdentityOf(dev),
    identityDir: join(dir, manifest.identities[0] as string),
    trustAnchorFiles: manifest.userAuthTrustAnchors.map((path) => join(dir, path)),
  };
}
