/**
 * The card login itself: from the posted certificate + signature to an interaction result.
 * The signed data is rebuilt from the OP's own origin and the nonce the route consumed from the
 * challenge store (counted as an answer, limits.ts); nothing the browser says about origin or nonce
 * is used.
 */
import type { Interaction, InteractionResults } from 'oidc-provider';
import { serialHex } from '../../jpki/certificate.js';
import { verifyLogin } from '../../jpki/verify-login.js';
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

/** What a card login needs besides the request. */
export interface CardLoginContext {
  readonly config: ResolvedOpConfig;
  readonly rawSerial: SealedClaimsCarrier;
  /** The client of the interaction (its metadata decides about the raw serial). */
  readonly client: object | undefined;
  /** The nonce of the interaction's challenge, consumed for this answer; undefined: none was left. */
  readonly nonce: string | undefined;
  /**
   * The request asks for identity claims: the result keeps the certificate key, which the
   * identity step compares with its signing certificate's card (identity-prompt.ts).
   */
  readonly identityRequested: boolean;
}

/**
 * Verifies the answer of `interaction`'s challenge (consumed once, `nonce`) and returns the login
 * result: the account, acr, amr and time; plus the sealed serial for a flagged client and the
 * certificate key for an identity request. Throws LoginError or VerificationError.
 */
export async function cardLogin(
  interaction: Interaction,
  fields: Record<string, unknown>,
  { config, rawSerial, client, nonce, identityRequested }: CardLoginContext,
): Promise<InteractionResults> {
  const answer = { certificate: decodeField(fields.certificate), signature: decodeField(fields.signature) };
  if (nonce === undefined) throw new LoginError('CHALLENGE_UNAVAILABLE');
  const verified = await verifyLogin(
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
  const account = await config.storage.accounts.accountForLogin({
    certificate: verified.certificate,
    certificateKey: verified.certificateKey,
    issuerKeyId: verified.issuer.id,
    issuerGeneration: verified.issuer.generation,
  });
  const clientId = String(interaction.params.client_id);
  const myna = {
    ...(hasFlag(client, RAW_SERIAL_FLAG)
      ? { sealedSerial: rawSerial.sealSerial(serialHex(verified.certificate.serialNumber), clientId) }
      : {}),
    ...(identityRequested ? { userAuthCertificateKey: verified.certificateKey } : {}),
  };
  return {
    login: {
      accountId: account.accountId,
      acr: JPKI_ACR,
      amr: [...JPKI_AMR],
      ts: Math.floor(Date.now() / 1000),
      // A browser-session cookie: closing the browser ends the OP session (shared PCs).
      remember: false,
    },
    ...(Object.keys(myna).length ? { [MYNA_RESULT]: myna } : {}),
  };
}
