/**
 * What a person can see and do about their own account, for the account page (op/account/) and
 * the operator CLI (`myna-oidc accounts export|erase`), which use these services alike:
 *
 * - `overview`: every service (client) the account has a grant, a session or release history with
 *   — name and logo, first and last sign-in, the scope and claim names it received, the identity
 *   facts released and when (names only, never values), whether it receives back-channel logout,
 *   the fingerprint of the pseudonym (`sub`) it holds (subject/pseudonym-fingerprint.ts), whether
 *   that `sub` is the shared identifier every `public`-subject client gets (the account id: such
 *   services can recognise the person across services, and the card again after an erasure, as
 *   the new account id keeps the certificate-key prefix), and the
 *   identity evidence records the OP retains for it (created, kept until; never their content) — and
 *   the linked certificates by issue date and CA generation (never a serial or certificate key);
 * - `withdraw`: revokes one service's grants (with their tokens and codes), removes it from the
 *   account's sessions and queues a back-channel logout for it; its refresh tokens stop working and
 *   its next sign-in asks for consent again;
 * - `signOutEverywhere`: ends every session and queues a back-channel logout to every service;
 * - `exportAccount`: everything the OP holds about the account as one JSON document (format
 *   ACCOUNT_EXPORT_FORMAT, version ACCOUNT_EXPORT_VERSION; its `services` and `certificates` are
 *   exactly what `overview` gives);
 * - `eraseAccount`: queues a back-channel logout to every service, then erases all that
 *   AccountRecords.erase removes (grants with tokens and codes, sessions, release history,
 *   account-index pointers, revocation audit records, the account's traces on the logout queue,
 *   certificate pointers, the account): afterwards the table holds nothing that names the
 *   account, and the card's next sign-in makes a new account (new id, new pseudonyms). Retained
 *   identity evidence records stay until their own expiry (the service's record-keeping duty),
 *   encrypted and without any link to the account: erasure deletes the links.
 *
 * Back-channel logouts go through the durable queue the revocation job uses
 * (storage/logout-queue.ts): one delivery per service with a `backchannel_logout_uri`, naming the
 * `sub` it knows and the `sid` of its newest session (if any); `deliver` (the OP: one attempt at
 * once) may try it right away, and the scheduled job retries what is left. Deliveries queued here
 * carry no account id.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClientMetadata } from 'oidc-provider';
import type { AccountArtifactSet, AccountSession } from '../storage/account-artifacts.js';
import type { Clock } from '../storage/expiry.js';
import type { LogoutDelivery, LogoutQueue, LogoutRequest } from '../storage/logout-queue.js';
import type { ReleaseHistory } from '../storage/release-history.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import { pseudonymFingerprint } from '../subject/pseudonym-fingerprint.js';
import { DEFAULT_SUBJECT_TYPE, SubjectError, subjectFor } from '../subject/subject-for.js';
import { type AccountHoldings, AccountRecords, type ErasedAccount } from './account-records.js';
import type { AccountCertificate } from './account-store.js';

/** `format` of an export document. */
export const ACCOUNT_EXPORT_FORMAT = 'myna-oidc/account-export';
/** `version` of the export format this module writes. */
export const ACCOUNT_EXPORT_VERSION = 1;

/**
 * The longest a JPKI user-authentication certificate can be valid, days: until the holder's 5th
 * birthday after issue, so less than 6 years. The OP does not keep a certificate's expiry (it can
 * reveal the birthday): a certificate issued longer ago than this is certainly expired.
 */
export const MAX_USER_AUTH_VALIDITY_DAYS = 6 * 365 + 2;

/** One service as the account page shows it. */
export interface ServiceEntry {
  readonly clientId: string;
  /** The registered `client_name` (absent: the client is not registered any more, or has none). */
  readonly name?: string;
  readonly logoUri?: string;
  /** The first and last sign-in the release history still holds (absent without history). */
  readonly firstSignInAt?: Date;
  readonly lastSignInAt?: Date;
  /** Scope names it received (over the history still held), sorted. */
  readonly scopes: readonly string[];
  /** Claim names it received, sorted. */
  readonly claims: readonly string[];
  /** Identity verifications: which facts (claim names) were released, when; oldest first. */
  readonly identityReleases: readonly { readonly at: Date; readonly claims: readonly string[] }[];
  /** True when the service registered a back-channel logout URI. */
  readonly backchannelLogout: boolean;
  /**
   * pseudonymFingerprint of the `sub` the service holds; absent when the service is not
   * registered any more (its sub cannot be computed).
   */
  readonly pseudonymFingerprint?: string;
  /**
   * True when the service is registered with subject type `public` (the operator's choice): its
   * `sub` is the account id, the same for every such service, so those services can match the
   * person with each other, and recognise the card again after an erasure (the new account id
   * starts with the same certificate key). False for pairwise and for unregistered services.
   */
  readonly sharedIdentifier: boolean;
  /** The account has a live grant for it (it can refresh tokens, sign in without consent). */
  readonly hasGrant: boolean;
  /** Live sessions the service is signed in through. */
  readonly sessions: number;
  /**
   * Identity evidence records the OP keeps for the service's record-keeping duty (oldest first):
   * kept until `keptUntil`, also after an erasure of the account (then without any link to it).
   */
  readonly retainedEvidence: readonly RetainedEvidence[];
}

/** One retained identity evidence record, as the page and the export name it: never its content. */
export interface RetainedEvidence {
  /** The id the service received (claim `myna_identity_evidence_record`). */
  readonly recordId: string;
  readonly createdAt: Date;
  readonly keptUntil: Date;
}

/** One certificate linked to the account: never its serial or certificate key. */
export interface LinkedCertificate {
  /** Issue date (notBefore) of certificates seen since it is kept; else the first sign-in with it. */
  readonly issuedAt: Date;
  /** True when `issuedAt` is the certificate's own issue date, false when it is the first sign-in. */
  readonly issueDateKnown: boolean;
  readonly caGeneration: string;
  readonly firstUsedAt: Date;
  readonly lastUsedAt: Date;
  /** `revoked`: cannot sign in any more; `expired`: issued longer ago than any JPKI validity. */
  readonly status: 'active' | 'revoked' | 'expired';
}

/** What the account page shows. */
export interface AccountOverview {
  readonly accountId: string;
  /** Most recently used first. */
  readonly services: readonly ServiceEntry[];
  /** Oldest first. */
  readonly certificates: readonly LinkedCertificate[];
}

/** The export document (JSON; dates as ISO 8601 strings). See README "Privacy". */
export interface AccountExport {
  readonly format: typeof ACCOUNT_EXPORT_FORMAT;
  readonly version: typeof ACCOUNT_EXPORT_VERSION;
  readonly exportedAt: string;
  readonly accountId: string;
  /** Absent when the OP holds no account item (only left-over grants, sessions or history). */
  readonly account?: {
    readonly createdAt: string;
    readonly expiresAt?: string;
    /** As stored: certificate key (keyed hash, not the serial), issuing CA key id, generation, times, revocation. */
    readonly certificates: readonly AccountCertificate[];
  };
  /** Exactly overview().services and .certificates, as JSON. */
  readonly services: readonly Jsonified<ServiceEntry>[];
  readonly certificates: readonly Jsonified<LinkedCertificate>[];
  /** Every release the history holds, oldest first. */
  readonly releaseHistory: readonly {
    readonly clientId: string;
    readonly at: string;
    readonly scopes: readonly string[];
    readonly claims: readonly string[];
    readonly identityClaims?: readonly string[];
  }[];
  readonly grants: readonly { readonly id: string; readonly clientId: string }[];
  readonly sessions: readonly {
    readonly id: string;
    readonly loginAt: string;
    readonly clients: readonly string[];
  }[];
  /** The revocation notification job's records about the account's certificates. */
  readonly revocationAudits: readonly Record<string, unknown>[];
  /** Identity evidence records retained for services (also in `services`), oldest first. */
  readonly retainedEvidence: readonly (Jsonified<RetainedEvidence> & { readonly clientId: string })[];
  /** Back-channel logout queue items naming the account or one of its certificates. */
  readonly logoutQueue: readonly {
    readonly id: string;
    readonly clientId: string;
    readonly state: string;
    readonly attempts: number;
    readonly nextAttemptAt: string;
  }[];
}

/** A type as JSON.stringify leaves it (Dates become strings). */
export type Jsonified<T> = {
  readonly [K in keyof T]: T[K] extends Date
    ? string
    : T[K] extends Date | undefined
      ? string | undefined
      : T[K] extends readonly (infer E)[]
        ? readonly Jsonified<E>[]
        : T[K] extends object
          ? Jsonified<T[K]>
          : T[K];
};

/** What `withdraw` did. */
export interface WithdrawResult {
  readonly clientId: string;
  readonly grants: number;
  /** Sessions the service was removed from. */
  readonly sessions: number;
  /** True when a back-channel logout was queued (the service registered one). */
  readonly logoutQueued: boolean;
}

/** What `signOutEverywhere` did. */
export interface SignOutResult {
  readonly sessions: number;
  readonly logoutsQueued: number;
}

/** What `eraseAccount` did. */
export interface EraseResult extends ErasedAccount {
  /** Back-channel logouts queued before the erasure. */
  readonly logoutsQueued: number;
}

/** Options of AccountServices. */
export interface AccountServicesOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The pairwise secret: the `sub` each service holds (fingerprints, logout tokens). */
  readonly pairwiseSecret: KeyedHashSecret;
  /** A registered client's metadata (undefined: not registered). */
  readonly findClient: (clientId: string) => Promise<ClientMetadata | undefined>;
  readonly logoutQueue: LogoutQueue;
  /** Tries a queued delivery at once (the OP); absent: the scheduled job delivers it. */
  readonly deliver?: (delivery: LogoutDelivery) => Promise<unknown>;
  /** The release history (default: on the same table, default retention). */
  readonly history?: ReleaseHistory;
  /** Clients never listed, withdrawn or notified: the OP's own (e.g. the account page's). */
  readonly internalClientIds?: readonly string[];
  /** Current time in epoch milliseconds (default Date.now). */
  readonly now?: Clock;
}

/** The account services; see the module comment. */
export class AccountServices {
  readonly #o: AccountServicesOptions;
  readonly #records: AccountRecords;
  readonly #internal: ReadonlySet<string>;
  readonly #now: Clock;

  constructor(options: AccountServicesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#records = new AccountRecords({
      client: options.client,
      tableName: options.tableName,
      now: this.#now,
      ...(options.history ? { history: options.history } : {}),
    });
    this.#internal = new Set(options.internalClientIds ?? []);
  }

  /** What the account page shows (see the module comment). */
  async overview(accountId: string): Promise<AccountOverview> {
    return this.#overviewOf(accountId, await this.#records.holdings(accountId));
  }

  /** Withdraws one service's access (see the module comment). */
  async withdraw(accountId: string, clientId: string): Promise<WithdrawResult> {
    const artifacts = await this.#records.artifacts(accountId);
    const grants = artifacts.grants.filter((grant) => grant.clientId === clientId);
    const sessions = artifacts.sessions.filter((session) => clientId in session.authorizations);
    // A service the account has nothing with is not told anything.
    const linked = grants.length + sessions.length > 0 && !this.#internal.has(clientId);
    const queued = linked ? await this.#queueLogouts(accountId, [clientId], sessions, 'withdraw') : [];
    await this.#records.revokeGrants(grants);
    for (const session of sessions) await this.#records.removeFromSession(session.id, clientId);
    await this.#deliver(queued);
    return { clientId, grants: grants.length, sessions: sessions.length, logoutQueued: queued.length > 0 };
  }

  /** Ends every session and notifies every service (see the module comment). */
  async signOutEverywhere(accountId: string): Promise<SignOutResult> {
    const { artifacts, queued } = await this.#queueLogoutsToAll(accountId, 'signout');
    await this.#records.revokeSessions(artifacts.sessions);
    await this.#deliver(queued);
    return { sessions: artifacts.sessions.length, logoutsQueued: queued.length };
  }

  /** Everything the OP holds about the account (see AccountExport). */
  async exportAccount(accountId: string): Promise<AccountExport> {
    const holdings = await this.#records.holdings(accountId);
    const { services, certificates } = await this.#overviewOf(accountId, holdings);
    const { account } = holdings;
    const certificateKeys = (account?.certificates ?? []).map((certificate) => certificate.certificateKey);
    const traces = await this.#records.traces(accountId, certificateKeys);
    return {
      format: ACCOUNT_EXPORT_FORMAT,
      version: ACCOUNT_EXPORT_VERSION,
      exportedAt: new Date(this.#now()).toISOString(),
      accountId,
      ...(account
        ? {
            account: {
              createdAt: account.createdAt,
              ...(account.expiresAt === undefined ? {} : { expiresAt: account.expiresAt }),
              certificates: account.certificates,
            },
          }
        : {}),
      ...(JSON.parse(JSON.stringify({ services, certificates })) as Pick<
        AccountExport,
        'services' | 'certificates'
      >),
      releaseHistory: holdings.releases.map(({ accountId: _id, at, ...entry }) => ({
        ...entry,
        at: at.toISOString(),
      })),
      grants: holdings.grants.map(({ id, clientId }) => ({ id, clientId })),
      sessions: holdings.sessions.map((session) => ({
        id: session.id,
        loginAt: new Date(session.loginTs * 1000).toISOString(),
        clients: Object.keys(session.authorizations).sort(),
      })),
      revocationAudits: traces.revocationAudits,
      retainedEvidence: holdings.evidence.map(({ clientId, recordId, createdAt, keptUntil }) => ({
        clientId,
        recordId,
        createdAt: createdAt.toISOString(),
        keptUntil: keptUntil.toISOString(),
      })),
      logoutQueue: traces.logoutQueue.map((item) => ({
        id: item.sk,
        clientId: item.clientId,
        state: item.state,
        attempts: item.attempts,
        nextAttemptAt: new Date(item.nextAttemptAt).toISOString(),
      })),
    };
  }

  /** Notifies every service, then erases everything of the account (see the module comment). */
  async eraseAccount(accountId: string): Promise<EraseResult> {
    const { queued } = await this.#queueLogoutsToAll(accountId, 'erase');
    const erased = await this.#records.erase(accountId);
    await this.#deliver(queued);
    return { ...erased, logoutsQueued: queued.length };
  }

  #overviewOf(accountId: string, holdings: AccountHoldings): Promise<AccountOverview> {
    return overviewOf(accountId, holdings, {
      now: this.#now(),
      internal: this.#internal,
      findClient: this.#o.findClient,
      pairwiseSecret: this.#o.pairwiseSecret,
    });
  }

  /**
   * Queues a logout to every service (not internal) the account has a grant or session with;
   * returns the account's grants and sessions too.
   */
  async #queueLogoutsToAll(
    accountId: string,
    cause: 'signout' | 'erase',
  ): Promise<{ artifacts: AccountArtifactSet; queued: LogoutDelivery[] }> {
    const artifacts = await this.#records.artifacts(accountId);
    const clientIds = new Set([
      ...artifacts.grants.map((grant) => grant.clientId),
      ...artifacts.sessions.flatMap((session) => Object.keys(session.authorizations)),
    ]);
    const services = [...clientIds].filter((clientId) => !this.#internal.has(clientId)).sort();
    return { artifacts, queued: await this.#queueLogouts(accountId, services, artifacts.sessions, cause) };
  }

  /**
   * Queues one back-channel logout per client with a backchannel_logout_uri: the `sub` it knows and
   * the sid of the newest of `sessions` it is in (sessions come newest first). No account id.
   */
  async #queueLogouts(
    accountId: string,
    clientIds: readonly string[],
    sessions: readonly AccountSession[],
    cause: 'withdraw' | 'signout' | 'erase',
  ): Promise<LogoutDelivery[]> {
    const queued: LogoutDelivery[] = [];
    const now = new Date(this.#now());
    for (const clientId of clientIds) {
      const metadata = await this.#o.findClient(clientId);
      const uri = metadata?.backchannel_logout_uri;
      if (!metadata || typeof uri !== 'string') continue;
      const sid = sessions.map((session) => session.authorizations[clientId]?.sid).find(Boolean);
      const sub = subjectOf(this.#o.pairwiseSecret, metadata, accountId);
      // A logout token names the sub, the sid or both.
      if (sub === undefined && sid === undefined) continue;
      const request: LogoutRequest = {
        id: `account-${cause}:${randomUUID()}#${clientId}`,
        clientId,
        uri,
        ...(sub ? { sub } : {}),
        ...(sid ? { sid } : {}),
        alg: String(metadata.id_token_signed_response_alg ?? 'RS256'),
      };
      const delivery = await this.#o.logoutQueue.enqueue(request, now);
      if (delivery) queued.push(delivery);
    }
    return queued;
  }

  /** One attempt of each delivery at once when the caller can deliver (the job retries the rest). */
  async #deliver(deliveries: readonly LogoutDelivery[]): Promise<void> {
    const { deliver } = this.#o;
    if (deliver) for (const delivery of deliveries) await deliver(delivery);
  }
}

/** What overviewOf needs besides the holdings. */
interface OverviewContext {
  readonly now: number;
  readonly internal: ReadonlySet<string>;
  readonly findClient: (clientId: string) => Promise<ClientMetadata | undefined>;
  readonly pairwiseSecret: KeyedHashSecret;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

async function overviewOf(
  accountId: string,
  holdings: AccountHoldings,
  context: OverviewContext,
): Promise<AccountOverview> {
  const history = holdings.releases;
  const clientIds = new Set([
    ...holdings.grants.map((grant) => grant.clientId),
    ...holdings.sessions.flatMap((session) => Object.keys(session.authorizations)),
    ...history.map((entry) => entry.clientId),
    ...holdings.evidence.map((link) => link.clientId),
  ]);
  const services: ServiceEntry[] = [];
  for (const clientId of clientIds) {
    if (context.internal.has(clientId)) continue;
    const metadata = await context.findClient(clientId);
    const releases = history.filter((entry) => entry.clientId === clientId);
    const times = releases.map((entry) => entry.at.getTime());
    const name = metadata?.client_name;
    const logoUri = metadata?.logo_uri;
    const sub = metadata && subjectOf(context.pairwiseSecret, metadata, accountId);
    const fingerprint = sub && pseudonymFingerprint(sub);
    services.push({
      clientId,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof logoUri === 'string' ? { logoUri } : {}),
      ...(times.length === 0
        ? {}
        : { firstSignInAt: new Date(Math.min(...times)), lastSignInAt: new Date(Math.max(...times)) }),
      scopes: sorted(releases.flatMap((entry) => entry.scopes)),
      claims: sorted(releases.flatMap((entry) => [...entry.claims, ...(entry.identityClaims ?? [])])),
      identityReleases: releases
        .filter((entry) => entry.identityClaims?.length)
        .map((entry) => ({ at: entry.at, claims: [...(entry.identityClaims ?? [])] })),
      backchannelLogout: typeof metadata?.backchannel_logout_uri === 'string',
      ...(fingerprint === undefined ? {} : { pseudonymFingerprint: fingerprint }),
      sharedIdentifier:
        metadata !== undefined && (metadata.subject_type ?? DEFAULT_SUBJECT_TYPE) === 'public',
      hasGrant: holdings.grants.some((grant) => grant.clientId === clientId),
      sessions: holdings.sessions.filter((session) => clientId in session.authorizations).length,
      retainedEvidence: holdings.evidence
        .filter((link) => link.clientId === clientId)
        .map(({ recordId, createdAt, keptUntil }) => ({ recordId, createdAt, keptUntil })),
    });
  }
  services.sort(
    (a, b) =>
      (b.lastSignInAt?.getTime() ?? 0) - (a.lastSignInAt?.getTime() ?? 0) ||
      a.clientId.localeCompare(b.clientId),
  );
  const certificates = (holdings.account?.certificates ?? []).map((certificate) =>
    linkedCertificate(certificate, context.now),
  );
  return { accountId, services, certificates };
}

/** The sub `metadata`'s client holds; undefined when it has no sector (a broken registration). */
function subjectOf(secret: KeyedHashSecret, metadata: ClientMetadata, accountId: string): string | undefined {
  try {
    return subjectFor(secret, metadata, accountId);
  } catch (error) {
    if (error instanceof SubjectError) return undefined;
    throw error;
  }
}

function linkedCertificate(certificate: AccountCertificate, nowMs: number): LinkedCertificate {
  const issuedAt = new Date(certificate.issuedAt ?? certificate.firstSeenAt);
  const status =
    certificate.revokedAt !== undefined
      ? 'revoked'
      : nowMs - issuedAt.getTime() > MAX_USER_AUTH_VALIDITY_DAYS * DAY_MS
        ? 'expired'
        : 'active';
  return {
    issuedAt,
    issueDateKnown: certificate.issuedAt !== undefined,
    caGeneration: certificate.issuerGeneration,
    firstUsedAt: new Date(certificate.firstSeenAt),
    lastUsedAt: new Date(certificate.lastSeenAt),
    status,
  };
}
