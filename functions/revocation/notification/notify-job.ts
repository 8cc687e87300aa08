/**
 * The revocation notification job: finds certificates of known accounts that a CRL import newly
 * listed, and for each one marks it revoked on the account, revokes the account's grants (and
 * their tokens) and sessions, and sends an OIDC Back-Channel Logout token to every client with a
 * backchannel_logout_uri the account has a grant or session with. Run on a schedule
 * (notify-handler.ts) or by `myna-oidc revocation notify`. It only orchestrates: each step is a
 * module of its own —
 * - the CRL store's feed of the keys each import ADDED (crl-store.ts): imports write only deltas,
 *   so in steady state a run reads a few items; each feed chunk's keys are joined with the
 *   accounts' certificate pointers (accounts/dynamo-account-store.ts, BatchGetItem of 100) and a hit
 *   is re-checked against its fresh `REVOKED#` item (a certificate delisted since is skipped).
 *   Neither accounts nor revocations are ever scanned;
 * - the audit record of each certificate, `opened` → `queued` → `revoked` (storage/revocation-audit.ts);
 * - the account's grants and sessions, found and revoked (storage/account-artifacts.ts);
 * - the `sub` each client knows (subject/subject-for.ts, the rule the OP applies);
 * - the durable delivery queue and its one sender (storage/logout-queue.ts, backchannel-sender.ts),
 *   shared with RP-initiated logout: retries within the run, then on later runs, then `failed`;
 * - the logout-token signer (logout-token-signer.ts), which holds the signing keys: the job itself
 *   never does (on AWS the signer is its own Lambda, so the process that talks to every RP's
 *   network cannot sign an ID token).
 *
 * Every step is conditional or idempotent, so a run killed at any point is finished by the next:
 * a feed chunk is deleted only after all its certificates reached `revoked`; a delivery is
 * recorded before the next one starts. Only a kill between an RP's 200 and that record can
 * deliver twice — with the same jti, which the specification lets RPs use to drop replays.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NO_PREDECESSORS } from '../../accounts/account-store.js';
import { DynamoAccountStore } from '../../accounts/dynamo-account-store.js';
import { type OpLogger, stderrLogger } from '../../log/logger.js';
import type { IdentitySecrets } from '../../secrets/op-secrets.js';
import { type AccountArtifactSet, AccountArtifacts } from '../../storage/account-artifacts.js';
import { ClientRegistry } from '../../storage/client-registry.js';
import { LogoutQueue, type LogoutRequest } from '../../storage/logout-queue.js';
import { RevocationAuditLog } from '../../storage/revocation-audit.js';
import { subjectFor } from '../../subject/subject-for.js';
import { CrlStore } from '../crl-store.js';
import { BackchannelSender, type DeliveryCounts, noDeliveries } from './backchannel-sender.js';
import type { LogoutTokenSigner } from './logout-token-signer.js';
import { PrivateRpHosts } from './private-network.js';

const CERT_LOOKUP_BATCH = 100;

/** Points where a run records progress (the test hook `onStep` runs after each). */
export type NotifyStep = 'account-marked' | 'queued' | 'revoked' | 'feed-consumed' | 'delivered';

/** Options of NotifyJob; delivery timings default to defaults.ts BACKCHANNEL_RETRY. */
export interface NotifyJobOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The OP's issuer (iss of logout tokens). */
  readonly issuer: string;
  /** The identity secrets (accounts, pairwise subs); no signing key. */
  readonly secrets: IdentitySecrets;
  /** Signs the logout tokens (logout-token-signer.ts). */
  readonly signer: LogoutTokenSigner;
  /** RP hosts that may be on private networks (as the OP's `privateRpHosts`; default none). */
  readonly privateRpHosts?: readonly string[];
  readonly logger?: OpLogger;
  readonly now?: () => Date;
  /** Time allowed for one delivery, ms. */
  readonly timeoutMs?: number;
  /** Delivery attempts per work item within one run. */
  readonly attemptsPerRun?: number;
  /** First in-run retry delay, ms, doubling. */
  readonly retryDelayMs?: number;
  /** Attempts over all runs before a delivery is `failed`. */
  readonly maxAttempts?: number;
  /** First delay before the next run retries, seconds, doubling up to 6 h. */
  readonly retryAfterSeconds?: number;
  /** Time left for this run, ms; the run starts no new work below 0 (default: unlimited). */
  readonly timeLeftMs?: () => number;
  /** Called after each recorded step (tests throw here to simulate a run killed half-way). */
  readonly onStep?: (step: NotifyStep, detail: { certificateKey: string; clientId?: string }) => unknown;
}

/** What one run did. */
export interface NotifySummary extends DeliveryCounts {
  feedChunks: number;
  keysChecked: number;
  certificatesRevoked: number;
  notificationsQueued: number;
  /** True when the run stopped for lack of time (the next run continues). */
  stoppedEarly: boolean;
}

/** The job; one instance per run or reused across runs. */
export class NotifyJob {
  readonly #o: NotifyJobOptions;
  readonly #crls: CrlStore;
  readonly #accounts: DynamoAccountStore;
  readonly #clients: ClientRegistry;
  readonly #artifacts: AccountArtifacts;
  readonly #audit: RevocationAuditLog;
  readonly #queue: LogoutQueue;
  readonly #sender: BackchannelSender;
  readonly #logger: OpLogger;
  readonly #now: () => Date;

  constructor(options: NotifyJobOptions) {
    this.#o = options;
    const { client, tableName } = options;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger ?? stderrLogger;
    this.#crls = new CrlStore({ client, tableName });
    this.#accounts = new DynamoAccountStore({
      client,
      tableName,
      secret: options.secrets.certificateKeySecret,
      predecessors: NO_PREDECESSORS,
    });
    this.#clients = new ClientRegistry({ client, tableName });
    // Single-item deletes: the job's role may delete tokens, never put them (infra notify-function.ts).
    this.#artifacts = new AccountArtifacts({
      client,
      tableName,
      now: () => this.#now().getTime(),
      batchWrites: false,
    });
    this.#audit = new RevocationAuditLog({ client, tableName });
    this.#queue = new LogoutQueue({
      client,
      tableName,
      maxAttempts: options.maxAttempts,
      retryAfterSeconds: options.retryAfterSeconds,
    });
    this.#sender = new BackchannelSender({
      queue: this.#queue,
      issuer: options.issuer,
      signer: options.signer,
      privateRpHosts: new PrivateRpHosts(options.privateRpHosts),
      logger: this.#logger,
      now: this.#now,
      timeoutMs: options.timeoutMs,
      attemptsPerRun: options.attemptsPerRun,
      retryDelayMs: options.retryDelayMs,
      onRecorded: async (delivery, outcome, attempts) => {
        if (delivery.certificateKey === undefined) return;
        await this.#audit.recordDelivery(delivery.certificateKey, delivery.clientId, {
          state: outcome,
          attempts,
          at: this.#now().toISOString(),
        });
        if (outcome === 'delivered')
          await this.#step('delivered', delivery.certificateKey, delivery.clientId);
      },
    });
  }

  /** One run: consume the feed, then deliver every due notification (RP-initiated ones too). */
  async run(): Promise<NotifySummary> {
    const summary: NotifySummary = {
      feedChunks: 0,
      keysChecked: 0,
      certificatesRevoked: 0,
      notificationsQueued: 0,
      ...noDeliveries(),
      stoppedEarly: false,
    };
    const outOfTime = () => (this.#o.timeLeftMs?.() ?? Number.POSITIVE_INFINITY) <= 0;
    summary.stoppedEarly = await this.#consumeFeed(summary, outOfTime);
    if (!summary.stoppedEarly) summary.stoppedEarly = await this.#sender.sendDue(summary, outOfTime);
    this.#logger.info('revocation.notify.run', { ...summary });
    return summary;
  }

  async #step(step: NotifyStep, certificateKey: string, clientId?: string): Promise<void> {
    await this.#o.onStep?.(step, { certificateKey, ...(clientId === undefined ? {} : { clientId }) });
  }

  /** Works through the feed; true when it stopped for lack of time. */
  async #consumeFeed(summary: NotifySummary, outOfTime: () => boolean): Promise<boolean> {
    for await (const chunk of this.#crls.feed()) {
      if (outOfTime()) return true;
      for (let start = 0; start < chunk.certificateKeys.length; start += CERT_LOOKUP_BATCH) {
        const keys = chunk.certificateKeys.slice(start, start + CERT_LOOKUP_BATCH);
        summary.keysChecked += keys.length;
        const owners = await this.#accounts.accountsOfCertificateKeys(keys, chunk.caId);
        for (const [certificateKey, accountId] of owners) {
          await this.#handleCertificate(certificateKey, accountId, chunk.caId, summary);
        }
      }
      await this.#crls.deleteFeedChunk(chunk.id);
      summary.feedChunks++;
      await this.#step('feed-consumed', chunk.id);
    }
    return false;
  }

  /** Brings one newly revoked certificate of a known account to `revoked` (idempotent). */
  async #handleCertificate(
    certificateKey: string,
    accountId: string,
    caId: string,
    summary: NotifySummary,
  ): Promise<void> {
    const revocation = await this.#crls.revocation(certificateKey, caId);
    if (!revocation) return; // delisted since the import: nothing to do
    const state = await this.#audit.open(certificateKey, {
      accountId,
      caId,
      ...revocation,
      detectedAt: this.#now(),
    });
    if (state === 'revoked') return;

    await this.#accounts.markCertificateRevoked(accountId, certificateKey, revocation);
    await this.#step('account-marked', certificateKey);

    const artifacts = await this.#artifacts.find(accountId);
    const requests = await this.#logoutRequests(certificateKey, accountId, artifacts);
    for (const request of requests) {
      if (await this.#queue.enqueue(request, this.#now())) summary.notificationsQueued++;
    }
    await this.#audit.markQueued(
      certificateKey,
      requests.map((request) => request.clientId),
      { grants: artifacts.grants.length, sessions: artifacts.sessions.length },
    );
    await this.#step('queued', certificateKey);

    await this.#artifacts.revoke(artifacts);
    await this.#audit.markRevoked(certificateKey, this.#now());
    summary.certificatesRevoked++;
    this.#logger.info('revocation.account.revoked', {
      accountId,
      certificateKey,
      reason: revocation.reason,
      grants: artifacts.grants.length,
      sessions: artifacts.sessions.length,
      clients: requests.map((request) => request.clientId),
    });
    await this.#step('revoked', certificateKey);
  }

  /** One logout per client with a backchannel_logout_uri that the account has a grant or session with. */
  async #logoutRequests(
    certificateKey: string,
    accountId: string,
    { grants, sessions }: AccountArtifactSet,
  ): Promise<LogoutRequest[]> {
    const clientIds = new Set([
      ...grants.map((grant) => grant.clientId),
      ...sessions.flatMap((session) => Object.keys(session.authorizations)),
    ]);
    const requests: LogoutRequest[] = [];
    for (const clientId of [...clientIds].sort()) {
      const metadata = await this.#clients.get(clientId);
      const uri = metadata?.backchannel_logout_uri;
      if (!metadata || typeof uri !== 'string') continue;
      // The newest session's sid (sessions are sorted newest first); sub always.
      const sid = sessions.map((session) => session.authorizations[clientId]?.sid).find(Boolean);
      requests.push({
        id: `${certificateKey}#${clientId}`,
        clientId,
        uri,
        sub: subjectFor(this.#o.secrets.pairwiseSecret, metadata, accountId),
        ...(sid ? { sid } : {}),
        alg: String(metadata.id_token_signed_response_alg ?? 'RS256'),
        accountId,
        certificateKey,
      });
    }
    return requests;
  }
}

/** The audit records of revoked certificates (operator CLI and tests). */
export function listRevocationAudit(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  return new RevocationAuditLog({ client, tableName }).list();
}
