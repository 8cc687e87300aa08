/**
 * The OP's defaults in one place, as oidc-provider keeps its own in `lib/helpers/defaults.js`:
 * every lifetime, clock skew, timeout, retry schedule and name that a module falls back to when
 * its caller sets nothing. Modules import from here instead of repeating a number; an option that
 * overrides one of these says so in its own TSDoc.
 *
 * This module imports nothing, so both Lambdas and the CLI may load it. The reader-helper's limits
 * (port 47123, 16 KiB messages, 30 s per operation) live in protocol/helper-protocol.ts, because
 * the helper ships on its own and loads nothing from functions/.
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The DynamoDB table of the local stack and the CLI when `--table` is not given. On AWS the
 * table name comes from `OP_TABLE_NAME` (the CDK stack sets it).
 */
export const DEFAULT_TABLE_NAME = 'myna-oidc';

/**
 * Artifact lifetimes in seconds, passed to oidc-provider's `ttl`:
 * - `AuthorizationCode` 60 s: a code is redeemed right after the redirect (RFC 9700 advises short
 *   codes); the raw-serial seal is parked for the same time;
 * - `AccessToken`, `IdToken` 10 min: short, because userinfo is the only resource server;
 * - `Interaction` 10 min: the login page's lifetime (the card challenge inside it is shorter,
 *   see CHALLENGE_TTL_SECONDS);
 * - `Session` 12 h: a working day; the cookie itself is a browser-session cookie;
 * - `Grant`, `RefreshToken` 14 days: how long an RP may keep a user signed in without a new card
 *   signature.
 */
export const TTL = {
  AuthorizationCode: MINUTE,
  AccessToken: 10 * MINUTE,
  IdToken: 10 * MINUTE,
  Interaction: 10 * MINUTE,
  Session: 12 * HOUR,
  Grant: 14 * DAY,
  RefreshToken: 14 * DAY,
} as const;

/**
 * How long a "My account" page session lasts after its card login, seconds: 15 min, never
 * extended (op/account/account-session.ts) — a short visit, every action on it covered by that
 * card signature.
 */
export const ACCOUNT_SESSION_SECONDS = 15 * MINUTE;

/**
 * `Strict-Transport-Security` max-age of an https issuer, seconds: 2 years (hstspreload.org's
 * recommendation; at least 1 year). Never sent on an http issuer (the local stack).
 */
export const HSTS_MAX_AGE_SECONDS = 2 * 365 * DAY;

/** How long a card challenge (the nonce the card signs) can be answered, seconds: 5 min. */
export const CHALLENGE_TTL_SECONDS = 5 * MINUTE;

/**
 * The login page renews its challenge (POST /interaction/:uid/challenge) before an `authenticate`
 * or a navigation to the helper when less than this is left, seconds: 150 s — the helper's PIN
 * window waits up to 120 s for the person, then the card signs and the answer reaches the OP, so
 * no PIN entry is spent on a challenge that expires under it.
 */
export const CHALLENGE_RENEW_BELOW_SECONDS = 150;

/**
 * `Cache-Control` max-age of the JWKS, seconds: 10 min, no longer than an ID token lives, so
 * rotation steps (which must be further apart than that) always leave RP caches time to fetch a
 * `next` key before it signs (op/cache-headers.ts).
 */
export const JWKS_MAX_AGE_SECONDS = 10 * MINUTE;

/** `Cache-Control` max-age of discovery, seconds: 1 h (it changes only with a new deployment). */
export const DISCOVERY_MAX_AGE_SECONDS = HOUR;

/**
 * Tolerated clock difference between the OP and a certificate's or CRL's or OCSP response's
 * issuer, seconds: 60 s. One skew for every time check of a login (certificate validity, OCSP
 * thisUpdate/nextUpdate); `OP_CLOCK_SKEW_SECONDS` overrides it.
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** The largest clock skew the configuration accepts, seconds: 10 min. */
export const MAX_CLOCK_SKEW_SECONDS = 10 * MINUTE;

/**
 * The page the login page links to when the reader-helper cannot be reached: the README's guide
 * for people (not developers) on installing and setting up the helper.
 */
export const DEFAULT_HELPER_GUIDE_URL =
  'https://github.com/myna-oidc/myna-oidc/blob/main/README.md#for-people-using-the-helper';

/** Time allowed for one OCSP exchange (request, response, body), ms: 3 s. */
export const DEFAULT_OCSP_TIMEOUT_MS = 3_000;

/**
 * How long an OCSP response without nextUpdate is used after its thisUpdate, seconds: 5 min
 * (RFC 6960 §4.2.2.1: no nextUpdate means newer information is always available).
 */
export const DEFAULT_OCSP_MAX_AGE_SECONDS = 5 * MINUTE;

/** The largest OCSP response body read, bytes: 64 KiB (a JPKI response is about 2 KiB). */
export const OCSP_MAX_RESPONSE_BYTES = 64 * 1024;

/** OCSP answers kept in a warm process until their nextUpdate, at most: 10 000. */
export const OCSP_CACHE_ENTRIES = 10_000;

/** How long past its nextUpdate a stored CRL is still used, seconds: 0 (fail closed at once). */
export const DEFAULT_CRL_GRACE_SECONDS = 0;

/** How long a login caches a CRL's metadata (thisUpdate/nextUpdate) in memory, seconds: 60 s. */
export const DEFAULT_CRL_METADATA_CACHE_SECONDS = MINUTE;

/**
 * How long an account is kept after its last login, days: 3 years (1095). A login moves it on;
 * after it the account reads as absent and is erased (DynamoDB TTL, or the next login of its
 * certificate, which then starts a new account). `DynamoAccountStoreOptions.retentionDays`
 * overrides it.
 */
export const DEFAULT_ACCOUNT_RETENTION_DAYS = 3 * 365;

/**
 * How long an entry of an account's release history (which service received which scope and claim
 * names, when: storage/release-history.ts) is kept, days: 1 year (365). The account page and the
 * export show what is left; `DynamoStorageOptions.releaseHistoryRetentionDays` overrides it.
 */
export const DEFAULT_RELEASE_HISTORY_RETENTION_DAYS = 365;

/**
 * How much longer than its account a certificate pointer lives, days: 30. The pointer's expiry is
 * written again only when a login finds it closer than the retention period, so a returning
 * login refreshes it at most once per this many days (no extra write per login), and a pointer
 * always outlives the account it names.
 */
export const CERTIFICATE_POINTER_SLACK_DAYS = 30;

/**
 * The back-channel logout delivery schedule shared by RP-initiated logout and the revocation
 * notification job (storage/logout-queue.ts):
 * - `timeoutMs` 5 s: time allowed for one POST to an RP;
 * - `attemptsPerRun` 3: attempts within one run (a brief outage is ridden out at once);
 * - `retryDelayMs` 500 ms: the first in-run delay, doubling;
 * - `retryAfterSeconds` 60 s: the first delay before a later run retries, doubling…
 * - `maxRetryDelaySeconds` 6 h: …up to this;
 * - `maxAttempts` 12: attempts over all runs before the delivery is `failed` (about 20 hours
 *   after the first with the doubling above);
 * - `finishedTtlSeconds` 90 days: how long delivered and failed work items are kept.
 */
export const BACKCHANNEL_RETRY = {
  timeoutMs: 5_000,
  attemptsPerRun: 3,
  retryDelayMs: 500,
  retryAfterSeconds: MINUTE,
  maxRetryDelaySeconds: 6 * HOUR,
  maxAttempts: 12,
  finishedTtlSeconds: 90 * DAY,
} as const;

/** How long a back-channel logout token is valid after it is signed, seconds: 2 min. */
export const LOGOUT_TOKEN_TTL_SECONDS = 2 * MINUTE;

/**
 * Time the scheduled notification Lambda keeps free at the end of an invocation, ms: 1 min. The
 * job starts no new work after that and the next run continues.
 */
export const NOTIFY_RESERVE_MS = MINUTE * 1000;

/**
 * The DynamoDB client of every storage module (storage/dynamo-client.ts): the SDK's adaptive
 * retry with `maxAttempts` 6 in total (throttling on a cold on-demand table can take a few
 * backoffs), `connectionTimeoutMs` 2 s and `requestTimeoutMs` 5 s, so a stuck connection is
 * retried instead of hanging a Lambda.
 */
export const DYNAMO_CLIENT = {
  maxAttempts: 6,
  connectionTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
} as const;

/**
 * The OP Lambda's own GetSecretValue request (secrets/secrets-manager-http.ts), retried as the
 * SDK's standard mode does: `maxAttempts` 3 in total on network errors, 5xx and throttling, with
 * full-jitter exponential backoff from `backoffBaseMs` 100 ms up to `maxBackoffMs` 20 s; each
 * attempt gives up after `attemptTimeoutMs` 5 s.
 */
export const SECRETS_MANAGER_REQUEST = {
  maxAttempts: 3,
  backoffBaseMs: 100,
  maxBackoffMs: 20_000,
  attemptTimeoutMs: 5_000,
} as const;

/**
 * Application limits of the login (op/interactions/limits.ts), counted in the table so they hold
 * across Lambda instances (storage/rate-counter.ts); `OpConfig.limits` (or the `OP_LIMIT_*`
 * environment variables) override each:
 * - `answersPerInteraction` 5: card answers (certificate + signature, each fully verified) one
 *   sign-in may post — a person who mistypes nothing needs 1, a flaky reader a few;
 * - `challengesPerInteraction` 10: challenges one sign-in may be given (page loads and the fresh
 *   challenge after each refused answer);
 * - `interactionsPerAddressPerMinute` 100: authorization requests (each may start a sign-in) from
 *   one client IP address per minute — high enough for an office or mobile network behind one
 *   address, low enough that one machine cannot fill the table with interactions.
 * The per-sign-in counters live as long as the interaction (TTL.Interaction), the per-address one
 * for ADDRESS_WINDOW_SECONDS.
 */
export const LOGIN_LIMITS = {
  answersPerInteraction: 5,
  challengesPerInteraction: 10,
  interactionsPerAddressPerMinute: 100,
} as const;

/** The window of the per-address limit, seconds: 1 min. */
export const ADDRESS_WINDOW_SECONDS = MINUTE;

/**
 * The longest identifier (code, token, session or interaction id, client id) the OP looks up in
 * storage, UTF-8 bytes: 512. DynamoDB refuses partition keys over 2048 bytes with an error (a 500
 * before this limit); oidc-provider's own ids are 43 characters, client ids are the operator's.
 */
export const MAX_STORED_ID_BYTES = 512;

/**
 * Identity verification with the signing certificate (functions/identity/):
 * - `ageThresholds` 18, 20, 65: the ages `age_over_NN` and `age_equal_or_over` answer for — 18 the
 *   age of majority (since 2022), 20 the age for alcohol, tobacco and public gambling, 65 the usual
 *   age of senior discounts and pensions; `OpConfig.identity.ageThresholds` (the Lambda's
 *   `OP_IDENTITY_AGE_THRESHOLDS`) replaces the list;
 * - `evidenceRetentionDays` 2557 (7 years): how long a retained evidence record is kept (clients
 *   flagged `myna_retain_identity_evidence` only) — the Act on Prevention of Transfer of Criminal
 *   Proceeds keeps verification records 7 years after the business relationship ends, which the RP,
 *   not the OP, can date; an operator keeping records as the platform sets its own period;
 * - `allowUnknownRevocation` false: a signing certificate whose revocation status is unknown is
 *   refused, whatever the login's `allowUnknownRevocation` says — a signing certificate is revoked
 *   whenever the name or address changes, so "unknown" could release stale facts as verified;
 * - `acceptUnlinkedSigningCertificates` false: identity verification needs an authoritative
 *   certificate link source (`identity.links`, J-LIS's look-up), the only proof that the signing
 *   certificate is of the card that signed in (config.ts).
 */
export const IDENTITY_DEFAULTS = {
  ageThresholds: [18, 20, 65],
  evidenceRetentionDays: 7 * 365 + 2,
  allowUnknownRevocation: false,
  acceptUnlinkedSigningCertificates: false,
} as const;

/** The largest age threshold the configuration accepts, years. */
export const MAX_AGE_THRESHOLD = 150;
