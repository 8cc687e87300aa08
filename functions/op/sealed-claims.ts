/**
 * The one carrier of a transaction's sealed claims: the raw certificate serial (raw-serial.ts) and
 * the identity release (identity/release.ts). The OP keeps neither at rest in plain, so both travel
 * sealed (AES-256-GCM under a key derived by HKDF from the certificate-key secret, which the table
 * does not hold; the additional data binds each to its purpose and client, and once parked to
 * the code or access token it belongs to):
 * 1. the interaction seals them into its result (`result.myna.sealedSerial`,
 *    `result.myna.identity.sealed`), bound to the client;
 * 2. when the authorization code of that interaction is issued, they are opened and sealed again
 *    bound to that code (its id, client and account), and parked under the code's id for the
 *    code's lifetime (model "MynaSealedClaims") — copied under another code, they open for none;
 * 3. the token endpoint takes them (read once, then deleted) into the ID token; the identity
 *    release's userinfo part, when it has one, is sealed again bound to the access token issued
 *    with that ID token and parked under it for the access token's lifetime, and userinfo reads it
 *    with that access token only (refreshed access tokens, other transactions and later SSO logins
 *    see none).
 * `seal`/`open` seal any other string for a binding of the caller's (the interaction's pending
 * verification), never interchangeable with the carrier's own seals.
 */
import type { Adapter } from 'oidc-provider';
import type { IdentityRelease } from '../identity/release.js';
import { SealingKey } from '../identity/sealing-key.js';

/** The adapter model that holds sealed claims between code issuance and token, and for userinfo. */
export const SEALED_CLAIMS_MODEL = 'MynaSealedClaims';

const SEAL_LABEL = 'myna-oidc/sealed-claims/v1';

/** What a code's interaction left for the token endpoint, sealed. */
export interface SealedTransactionClaims {
  readonly sealedSerial?: string;
  readonly sealedIdentity?: string;
}

/** The same, opened at the token endpoint. */
export interface TransactionClaims {
  readonly serial?: string;
  readonly identity?: IdentityRelease;
}

/** The additional data of each kind of seal: purpose and binding, so none opens as another. */
const aad = (purpose: 'serial' | 'identity' | 'userinfo' | 'caller', binding: string) =>
  `${purpose}\u0000${binding}`;

/** The authorization code parked claims belong to. */
export interface CodeBinding {
  readonly jti: string;
  readonly clientId: string;
  readonly accountId: string;
}

/** The binding of a parked part: the code, its client and its account (JSON: no separator ambiguity). */
const codeBinding = (code: CodeBinding) => JSON.stringify(['code', code.jti, code.clientId, code.accountId]);
/** The binding of parked userinfo claims: the access token and its client. */
const tokenBinding = (tokenId: string, clientId: string) => JSON.stringify(['token', tokenId, clientId]);

const PARTS = [
  ['sealedSerial', 'serial'],
  ['sealedIdentity', 'identity'],
] as const;

/** Seals, parks and hands out a transaction's claims as described above. */
export class SealedClaimsCarrier {
  readonly #key: SealingKey;
  readonly #store: Adapter;

  constructor(certificateKeySecret: Uint8Array, store: Adapter) {
    this.#key = new SealingKey(certificateKeySecret, SEAL_LABEL);
    this.#store = store;
  }

  #openJson<T>(sealed: unknown, additionalData: string): T | undefined {
    const plain = this.#key.open(sealed, additionalData);
    return plain === undefined ? undefined : (JSON.parse(plain) as T);
  }

  /** Seals `plain` for `binding` (e.g. interaction uid and client id): only `open` with it opens it. */
  seal(plain: string, binding: string): string {
    return this.#key.seal(plain, aad('caller', binding));
  }

  /** Opens what `seal` sealed for `binding`; undefined when it was not (or was altered). */
  open(sealed: string, binding: string): string | undefined {
    return this.#key.open(sealed, aad('caller', binding));
  }

  /** The raw serial (lower-case hex) sealed for `clientId` (base64url of iv ‖ tag ‖ ciphertext). */
  sealSerial(serialHex: string, clientId: string): string {
    return this.#key.seal(serialHex, aad('serial', clientId));
  }

  /** The identity release sealed for `clientId` (W puts it in `result.myna.identity.sealed`). */
  sealRelease(release: IdentityRelease, clientId: string): string {
    return this.#key.seal(JSON.stringify(release), aad('identity', clientId));
  }

  /**
   * Parks the claims an interaction sealed for the code's client under the authorization code
   * `code` for `ttlSeconds`, sealed again for that code (a part sealed for another client is dropped).
   */
  async park(code: CodeBinding, sealed: SealedTransactionClaims, ttlSeconds: number): Promise<void> {
    const parked: Record<string, string> = {};
    for (const [field, purpose] of PARTS) {
      const plain = this.#key.open(sealed[field], aad(purpose, code.clientId));
      if (plain !== undefined) parked[field] = this.#key.seal(plain, aad(purpose, codeBinding(code)));
    }
    if (Object.keys(parked).length > 0) await this.#store.upsert(code.jti, parked, ttlSeconds);
  }

  /** Takes (reads and deletes) what is parked for the code `code`; a part parked for another code is dropped. */
  async take(code: CodeBinding): Promise<TransactionClaims> {
    const parked = (await this.#store.find(code.jti)) as SealedTransactionClaims | undefined;
    if (!parked) return {};
    await this.#store.destroy(code.jti);
    const serial = this.#key.open(parked.sealedSerial, aad('serial', codeBinding(code)));
    const identity = this.#openJson<IdentityRelease>(
      parked.sealedIdentity,
      aad('identity', codeBinding(code)),
    );
    return { ...(serial === undefined ? {} : { serial }), ...(identity === undefined ? {} : { identity }) };
  }

  /**
   * Parks the userinfo claims of a release under the access token id `tokenId` for `ttlSeconds`;
   * with the token's `grantId`, so revoking the grant (storage/account-artifacts.ts) removes them.
   */
  async parkUserinfo(
    tokenId: string,
    userinfo: Record<string, unknown>,
    clientId: string,
    ttlSeconds: number,
    grantId?: string,
  ): Promise<void> {
    await this.#store.upsert(
      tokenId,
      {
        sealedUserinfo: this.#key.seal(
          JSON.stringify(userinfo),
          aad('userinfo', tokenBinding(tokenId, clientId)),
        ),
        ...(grantId ? { grantId } : {}),
      },
      ttlSeconds,
    );
  }

  /** The userinfo claims parked for the access token `tokenId` of `clientId` (read, not deleted), if any. */
  async userinfo(tokenId: string, clientId: string): Promise<Record<string, unknown> | undefined> {
    const parked = (await this.#store.find(tokenId)) as { sealedUserinfo?: unknown } | undefined;
    return (
      parked &&
      this.#openJson<Record<string, unknown>>(
        parked.sealedUserinfo,
        aad('userinfo', tokenBinding(tokenId, clientId)),
      )
    );
  }
}
