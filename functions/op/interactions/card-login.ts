/**
 * The card login itself: from the posted certificate + signature to an interaction result.
 * The signed data is rebuilt from the OP's own origin and the nonce the route consumed from the
 * challenge store (counted as an answer, limits.ts); nothing the browser says about origin or nonce
 * is used.
 */
import type { Interaction, InteractionResults } from 'oidc-provider';
import type { KnownAccount } from '../../accounts/account-store.js';
import { parseCertificate, serialHex } from '../../jpki/certificate.js';
import { type VerifiedLogin, verifyLogin } from '../../jpki/verify-login.js';
import { certificateKey } from '../../subject/certificate-key.js';
import { JPKI_ACR, JPKI_AMR } from '../claims.js';
import { hasFlag, RAW_SERIAL_FLAG } from '../client-flags.js';
import type { ResolvedOpConfig } from '../config.js';
import type { SealedClaimsCarrier } from '../sealed-claims.js';
import { LoginError } from './login-error.js';

/**
 * Key of the OP's own part of an interaction result: the sealed raw serial (when allowed), and on
 * an identity request the login's certificate key and the identity step's sealed release
 * (identity-prompt.ts MynaResult).
 */
export const MYNA_RESULT = 'myna';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_FIELD_CHARS = 24 * 1024;

/** A posted base64url field's bytes (a certificate, a signature); LoginError ANSWER_MALFORMED otherwise. */
export function decodeField(value: unknown): Uint8Array {
  if (typeof value !== 'string' || value.length > MAX_FIELD_CHARS || !BASE64URL.test(value)) {
    throw new LoginError('ANSWER_MALFORMED');
  }
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

/**
 * Verifies a sign-in's card answer (`fields`: certificate and signature, base64url) over the
 * challenge `nonce` it names: chain, policy, validity, signature, revocation (jpki/verify-login.ts).
 * Throws LoginError (a malformed field) or VerificationError.
 */
export function verifyCardLogin(
  fields: Record<string, unknown>,
  nonce: string,
  config: ResolvedOpConfig,
): Promise<VerifiedLogin> {
  const answer = { certificate: decodeField(fields.certificate), signature: decodeField(fields.signature) };
  return verifyLogin(
    answer,
    { origin: config.origin, nonce },
    {
      trustAnchors: config.trustAnchors,
      now: new Date(),
      clockSkewSeconds: config.clockSkewSeconds,
      revocation: config.revocation,
      certificateKeySecret: config.secrets.certificateKeySecret,
      allowUnknownRevocation: config.allowUnknownRevocation,
    },
  );
}

/** The account of the card of `verified` (created on its first login): its id. */
export async function accountOfCard(config: ResolvedOpConfig, verified: VerifiedLogin): Promise<string> {
  const account = await config.storage.accounts.accountForLogin({
    certificate: verified.certificate,
    certificateKey: verified.certificateKey,
    issuerKeyId: verified.issuer.id,
    issuerGeneration: verified.issuer.generation,
  });
  return account.accountId;
}

/**
 * The account a returning card's answer will be recorded on (AccountStore.knownAccount), looked
 * up by the key of the posted certificate `field` before it is verified: a read, nothing written,
 * nothing told to the browser. Undefined when the field is no readable certificate, or the read
 * fails (the login then takes the way of a new card, which reads again and surfaces the error).
 */
export async function knownAccountOf(
  config: ResolvedOpConfig,
  field: unknown,
): Promise<KnownAccount | undefined> {
  try {
    const certificate = parseCertificate(decodeField(field));
    const key = certificateKey(
      config.secrets.certificateKeySecret,
      certificate.issuer,
      certificate.serialNumber,
    );
    return await config.storage.accounts.knownAccount(key);
  } catch {
    return undefined;
  }
}

/** What a login result needs besides the verified answer and its account. */
export interface LoginResultContext {
  readonly rawSerial: SealedClaimsCarrier;
  /** The client of the interaction (its metadata decides about the raw serial). */
  readonly client: object | undefined;
  /**
   * The request asks for identity claims: the result keeps the certificate key, which the
   * identity step compares with its signing certificate's card (identity-prompt.ts).
   */
  readonly identityRequested: boolean;
}

/**
 * The login result of `interaction` for the verified answer `verified` of account `accountId`: the
 * account, acr, amr and time; plus the sealed serial for a flagged client and the certificate key
 * for an identity request.
 */
export function loginResult(
  interaction: Interaction,
  verified: VerifiedLogin,
  accountId: string,
  { rawSerial, client, identityRequested }: LoginResultContext,
): InteractionResults {
  const clientId = String(interaction.params.client_id);
  const myna = {
    ...(hasFlag(client, RAW_SERIAL_FLAG)
      ? { sealedSerial: rawSerial.sealSerial(serialHex(verified.certificate.serialNumber), clientId) }
      : {}),
    ...(identityRequested ? { userAuthCertificateKey: verified.certificateKey } : {}),
  };
  return {
    login: {
      accountId,
      acr: JPKI_ACR,
      amr: [...JPKI_AMR],
      ts: Math.floor(Date.now() / 1000),
      // A browser-session cookie: closing the browser ends the OP session (shared PCs).
      remember: false,
    },
    ...(Object.keys(myna).length ? { [MYNA_RESULT]: myna } : {}),
  };
}
