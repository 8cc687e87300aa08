/**
 * Which user-authentication certificate a signing certificate belongs to. J-LIS offers registered
 * signature verifiers a look-up from a signing certificate's serial to the serial of the same
 * card's user-auth certificate (shared/jpki-card.md §4); that service is not reachable from here,
 * so it is an interface. verifyIdentity() asks it, when configured, whether the signing
 * certificate belongs to the user-auth certificate of the same answer (both were read from the
 * card in one session). `FileCertificateLinkSource` is the development stand-in: a JSON file the
 * development PKI writes (dev-pki/hierarchy.ts). Serials are personal data: the map lives only in
 * memory and nothing here logs them.
 */
import { readFileSync } from 'node:fs';
import { type ParsedCertificate, serialHex } from './certificate.js';

/** Answers the user-auth certificate serial linked to a signing certificate. */
export interface CertificateLinkSource {
  /**
   * True when the source knows every signing certificate it may be asked about: an unknown one is
   * then refused (CARD_MISMATCH). Otherwise only a link to another user-auth serial is refused.
   * Absent: false.
   */
  readonly authoritative?: boolean;
  /** The canonical hex serial (serialHex) of the linked user-auth certificate, or undefined when unknown. */
  userAuthSerialFor(signingCertificate: ParsedCertificate): Promise<string | undefined>;
}

/** Raised when a link file cannot be used. */
export class CertificateLinkFileError extends Error {
  override name = 'CertificateLinkFileError';
  readonly code = 'CERTIFICATE_LINK_FILE_INVALID';
}

/** What a link file says about itself (the key that is not a serial). */
export const LINK_FILE_WARNING_KEY = 'warning';
export const LINK_FILE_WARNING =
  'DEVELOPMENT ONLY: signing-certificate serial -> user-auth serial links of the development PKI. Serials are personal data.';

/** Canonical form of a hex serial as written by hand or by other tools: lower case, no leading zero bytes. */
export function canonicalSerialHex(hex: string): string {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new CertificateLinkFileError('a serial is not hex bytes');
  return serialHex(Buffer.from(hex, 'hex'));
}

/**
 * DEVELOPMENT ONLY. Links from a JSON file `{ "<signing serial hex>": "<user-auth serial hex>" }`
 * (plus a `warning` member), read once when constructed (a small file, so a bad one fails the
 * OP's start, not a verification). Production needs J-LIS's look-up as a registered signature
 * verifier or through a platform operator.
 */
export class FileCertificateLinkSource implements CertificateLinkSource {
  readonly authoritative: boolean;
  readonly #links: ReadonlyMap<string, string>;

  /** Reads and checks the link file at `path`. Throws CertificateLinkFileError. */
  constructor(path: string, options: { authoritative?: boolean } = {}) {
    this.authoritative = options.authoritative ?? false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new CertificateLinkFileError(`cannot read the certificate link file ${path}`, { cause: error });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CertificateLinkFileError(`${path} is not a JSON object`);
    }
    const links = new Map<string, string>();
    for (const [signing, userAuth] of Object.entries(parsed)) {
      if (signing === LINK_FILE_WARNING_KEY) continue;
      if (typeof userAuth !== 'string') throw new CertificateLinkFileError(`${path}: a link is not a string`);
      links.set(canonicalSerialHex(signing), canonicalSerialHex(userAuth));
    }
    this.#links = links;
  }

  async userAuthSerialFor(signingCertificate: ParsedCertificate): Promise<string | undefined> {
    return this.#links.get(serialHex(signingCertificate.serialNumber));
  }
}

/** The link file's text for `links` (signing serial hex → user-auth serial hex), for the development PKI. */
export function certificateLinkFileText(
  links: Iterable<readonly [signing: string, userAuth: string]>,
): string {
  const entries: Record<string, string> = { [LINK_FILE_WARNING_KEY]: LINK_FILE_WARNING };
  for (const [signing, userAuth] of links)
    entries[canonicalSerialHex(signing)] = canonicalSerialHex(userAuth);
  return `${JSON.stringify(entries, null, 2)}\n`;
}
