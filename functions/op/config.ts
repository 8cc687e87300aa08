/**
 * Everything the OP is configured with, and its validation. Storage, secrets and revocation are
 * injected, so the same OP runs on Lambda + DynamoDB and on a laptop with dynalite.
 */
import type { ClientMetadata } from 'oidc-provider';
import { DEFAULT_HELPER_PORT } from '../../protocol/helper-protocol.js';
import type { AccountStore } from '../accounts/account-store.js';
import type { AccountDataStorage } from '../accounts/op-account-services.js';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_HELPER_GUIDE_URL,
  IDENTITY_DEFAULTS,
  MAX_AGE_THRESHOLD,
  MAX_CLOCK_SKEW_SECONDS,
} from '../defaults.js';
import type { IdentitySettings, ResolvedIdentitySettings } from '../identity/identity-request.js';
import type { CertificateLinkSource } from '../jpki/certificate-links.js';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import { type OpLogger, stderrLogger } from '../log/logger.js';
import { PrivateRpHosts } from '../revocation/notification/private-network.js';
import type { RevocationSource } from '../revocation/revocation-source.js';
import type { OpSecrets } from '../secrets/op-secrets.js';
import type { ChallengeStore } from '../storage/challenge-store.js';
import type { LogoutQueue } from '../storage/logout-queue.js';
import type { RateCounter } from '../storage/rate-counter.js';
import { MIN_SECRET_BYTES } from '../subject/keyed-hash.js';
import type { OpAdapter } from './adapter.js';
import { type LoginLimitSettings, loginLimitSettings } from './limit-settings.js';

/** Lists the registered clients (for the start-up check of flagged clients). */
export interface ClientLister {
  list(): Promise<readonly ClientMetadata[]>;
}

/** Where the OP keeps its state. */
export interface OpStorage {
  /** oidc-provider adapter (class or factory) for every model, clients included. */
  readonly adapter: OpAdapter;
  /** Login challenges, which also count the per-sign-in limits (interactions/limits.ts). */
  readonly challenges: ChallengeStore;
  /** Accounts; renewal linking (the predecessor source) lives inside the store. */
  readonly accounts: AccountStore;
  readonly clients: ClientLister;
  /** The durable queue of back-channel logout deliveries (RP-initiated logout and revocation). */
  readonly logoutQueue: LogoutQueue;
  /** The counters of the per-address login limit (interactions/limits.ts). */
  readonly rateCounter: RateCounter;
  /**
   * Runs one HTTP request's storage work as a unit (storage/request-scope.ts): `flush` sends the
   * writes it holds now; absent: no scope.
   */
  readonly requestScope?: { run<T>(work: () => Promise<T>): Promise<T>; flush(): Promise<void> };
  /** The table behind the account page and the release history (accounts/op-account-services.ts). */
  readonly accountData?: AccountDataStorage;
}

export interface OpConfig {
  /** The issuer URL: https, no path, query or fragment (http only on loopback with `dev`). */
  readonly issuer: string;
  readonly trustAnchors: TrustAnchors;
  /**
   * The JPKI signing CAs (every generation) for identity verification with the signing certificate.
   * Absent: identity verification is off — an identity request gets invalid_request and discovery
   * advertises no verified claims. Production use needs J-LIS's authorization as a signature
   * verifier (署名検証者) or platform operator. `revocation` must know these CAs too
   * (trust-anchors.ts combineTrustAnchors).
   */
  readonly signingTrustAnchors?: TrustAnchors;
  /** Identity verification settings (defaults: defaults.ts IDENTITY_DEFAULTS). */
  readonly identity?: Partial<IdentitySettings & IdentityVerificationSettings> & {
    /**
     * J-LIS's signing-serial → user-auth-serial look-up (jpki/certificate-links.ts). With signing
     * trust anchors it is required, and authoritative, unless `acceptUnlinkedSigningCertificates`.
     */
    readonly links?: CertificateLinkSource;
  };
  readonly revocation: RevocationSource;
  /** Accept logins whose revocation status is unknown (default false: fail closed). */
  readonly allowUnknownRevocation?: boolean;
  /** Tolerated clock difference on certificate validity, seconds (default 60, at most 600). */
  readonly clockSkewSeconds?: number;
  /** The reader-helper's port on 127.0.0.1 / ::1 (default 47123). */
  readonly helperPort?: number;
  /** Link shown when the helper is not running (default: the README's install section). */
  readonly helperGuideUrl?: string;
  readonly secrets: OpSecrets;
  readonly storage: OpStorage;
  /**
   * RP host names or IP addresses that may be on private or loopback networks (back-channel
   * logout, jwks_uri, sector_identifier_uri, request_uri). Default none: like oidc-provider, the OP
   * refuses to send requests to private, loopback and other special-use addresses.
   */
  readonly privateRpHosts?: readonly string[];
  /** Development: allows an http issuer on a loopback host. Never set in production. */
  readonly dev?: boolean;
  /** Default: JSON lines on stderr. */
  readonly logger?: OpLogger;
  /** Login limits (answers and challenges per sign-in, requests per address); default LOGIN_LIMITS. */
  readonly limits?: Partial<LoginLimitSettings>;
  /**
   * The request header that carries the client's address, set by the proxy in front of the OP and
   * by nothing else (behind CloudFront with origin verification: `cloudfront-viewer-address`).
   * Default none: the address is the connection's peer (on Lambda, API Gateway's `sourceIp`);
   * `X-Forwarded-For` is never read, since a client can write it.
   */
  readonly clientAddressHeader?: string;
}

/** How an identity answer is verified, beyond the trust anchors (defaults.ts IDENTITY_DEFAULTS). */
export interface IdentityVerificationSettings {
  /**
   * Accept a signing certificate whose revocation status is unknown (default false). Separate from
   * the login's `allowUnknownRevocation`: signing certificates are revoked on every change of name
   * or address, so an unknown status could release outdated facts as verified.
   */
  readonly allowUnknownRevocation: boolean;
  /**
   * Verify identities without an authoritative link source (default false). Nothing in the answer
   * ties the signing certificate to the card that signed in: its user-auth certificate is public
   * and not signed in that step, and a modified helper can combine two cards' signatures. Only
   * J-LIS's link look-up proves it. With this set, the facts are those of whoever holds a signing
   * card and its password at that moment, not proven to be the signed-in person's.
   */
  readonly acceptUnlinkedSigningCertificates: boolean;
}

/** OpConfig with every default filled in. */
export type ResolvedOpConfig = Required<
  Omit<OpConfig, 'limits' | 'clientAddressHeader' | 'signingTrustAnchors' | 'identity'>
> & {
  readonly limits: LoginLimitSettings;
  readonly signingTrustAnchors?: TrustAnchors;
  /** `enabled` when signingTrustAnchors are configured. */
  readonly identity: ResolvedIdentitySettings &
    IdentityVerificationSettings & { readonly links?: CertificateLinkSource };
  readonly clientAddressHeader?: string;
  /** new URL(issuer).origin: the only origin a card signature is checked against. */
  readonly origin: string;
};

/** Raised for an unusable configuration; the message names the setting. */
export class OpConfigError extends Error {
  override name = 'OpConfigError';
  readonly code = 'OP_CONFIG_INVALID';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks `config` and fills in the defaults; throws OpConfigError naming the first problem. */
export function resolveOpConfig(config: OpConfig): ResolvedOpConfig {
  const fail = (message: string): never => {
    throw new OpConfigError(`OP configuration: ${message}`);
  };
  let issuer: URL;
  try {
    issuer = new URL(config.issuer);
  } catch {
    return fail(`issuer "${config.issuer}" is not a URL`);
  }
  if (issuer.search || issuer.hash || issuer.username || issuer.password) {
    fail('issuer must not have a query, fragment or user info');
  }
  if (issuer.pathname !== '/' || config.issuer.endsWith('/')) {
    fail('issuer must be an origin without path or trailing slash (e.g. https://login.example.jp)');
  }
  const dev = config.dev ?? false;
  if (
    issuer.protocol !== 'https:' &&
    !(dev && issuer.protocol === 'http:' && LOOPBACK_HOSTS.has(issuer.hostname))
  ) {
    fail('issuer must be https (http is allowed only on a loopback host with dev: true)');
  }
  const clockSkewSeconds = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (
    !Number.isInteger(clockSkewSeconds) ||
    clockSkewSeconds < 0 ||
    clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS
  ) {
    fail(`clockSkewSeconds must be an integer from 0 to ${MAX_CLOCK_SKEW_SECONDS}`);
  }
  const helperPort = config.helperPort ?? DEFAULT_HELPER_PORT;
  if (!Number.isInteger(helperPort) || helperPort < 1 || helperPort > 65_535) {
    fail('helperPort must be a TCP port (1-65535)');
  }
  const { secrets, storage } = config;
  for (const field of ['certificateKeySecret', 'pairwiseSecret'] as const) {
    if (!secrets || !(secrets[field]?.length >= MIN_SECRET_BYTES)) {
      fail(`secrets.${field} must have at least ${MIN_SECRET_BYTES} bytes`);
    }
  }
  if (secrets.cookieKeys.length === 0) fail('secrets.cookieKeys must not be empty');
  if (!secrets.jwks.keys.some((key) => key.status === 'active'))
    fail('secrets.jwks has no active signing key');
  if (
    !storage?.adapter ||
    !storage.challenges ||
    !storage.accounts ||
    !storage.clients ||
    !storage.logoutQueue ||
    !storage.rateCounter
  ) {
    fail('storage needs adapter, challenges, accounts, clients, logoutQueue and rateCounter');
  }
  let limits: LoginLimitSettings;
  try {
    limits = loginLimitSettings(config.limits);
  } catch (error) {
    return fail((error as Error).message);
  }
  let privateRpHosts: readonly string[] = [];
  try {
    privateRpHosts = new PrivateRpHosts(config.privateRpHosts).list;
  } catch (error) {
    fail(`privateRpHosts: ${(error as Error).message}`);
  }
  if (!config.trustAnchors || config.trustAnchors.list.length === 0) fail('trustAnchors must not be empty');
  if (!config.revocation) fail('revocation source is required');
  const ageThresholds = [...(config.identity?.ageThresholds ?? IDENTITY_DEFAULTS.ageThresholds)];
  if (
    ageThresholds.length === 0 ||
    ageThresholds.some((age) => !Number.isInteger(age) || age < 1 || age > MAX_AGE_THRESHOLD) ||
    new Set(ageThresholds).size !== ageThresholds.length
  ) {
    fail(`identity.ageThresholds must be distinct integers from 1 to ${MAX_AGE_THRESHOLD}`);
  }
  const evidenceRetentionDays =
    config.identity?.evidenceRetentionDays ?? IDENTITY_DEFAULTS.evidenceRetentionDays;
  if (!Number.isInteger(evidenceRetentionDays) || evidenceRetentionDays < 1) {
    fail('identity.evidenceRetentionDays must be a positive integer');
  }
  const links = config.identity?.links;
  const acceptUnlinkedSigningCertificates =
    config.identity?.acceptUnlinkedSigningCertificates ?? IDENTITY_DEFAULTS.acceptUnlinkedSigningCertificates;
  if (config.signingTrustAnchors && links?.authoritative !== true && !acceptUnlinkedSigningCertificates) {
    fail(
      `identity verification (signingTrustAnchors) needs ${links ? 'an authoritative' : 'a'} certificate ` +
        "link source (identity.links: J-LIS's look-up), the only proof that the signing certificate " +
        'is of the card that signed in; or set identity.acceptUnlinkedSigningCertificates: true ' +
        "to accept the facts of whoever holds a signing card and its password, unproven to be the signed-in person's",
    );
  }
  return {
    ...config,
    identity: {
      enabled: config.signingTrustAnchors !== undefined,
      ageThresholds: ageThresholds.sort((a, b) => a - b),
      evidenceRetentionDays,
      allowUnknownRevocation:
        config.identity?.allowUnknownRevocation ?? IDENTITY_DEFAULTS.allowUnknownRevocation,
      acceptUnlinkedSigningCertificates,
      ...(links ? { links } : {}),
    },
    allowUnknownRevocation: config.allowUnknownRevocation ?? false,
    clockSkewSeconds,
    helperPort,
    helperGuideUrl: config.helperGuideUrl ?? DEFAULT_HELPER_GUIDE_URL,
    privateRpHosts,
    dev,
    logger: config.logger ?? stderrLogger,
    limits,
    clientAddressHeader: config.clientAddressHeader?.toLowerCase(),
    origin: issuer.origin,
  };
}
