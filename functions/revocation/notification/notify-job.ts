/**
 * The revocation notification job: finds certificates of known accounts that a CRL import newly
 * listed, and for each one marks it revoked on the account, revokes the account's grants (and
 * their tokens) and sessions, and sends an OIDC Back-Channel Logout token to every client with a
 * backchannel_logout_uri the account has a grant or session with. Run on a schedule
 * (notify-handler.ts) or by `myna-oidc revocation notify`.
 *
 * What it reads: the CRL store's feed (crl-store.ts), the keys each import ADDED — imports write
 * only deltas, so in steady state a run reads a few items. Each feed chunk's keys are joined with
 * the accounts' certificate pointers (`CERT#<key>`, BatchGetItem of 100) — certificates nobody
 * logged in with cost one batched read, nothing else — and a hit is re-checked against its
 * `REVOKED#` item (fresh data: a certificate delisted since is skipped). Neither accounts nor
 * revocations are ever scanned.
 *
 * Durable state (single table, listable partitions, no raw serial anywhere):
 * - `RevocationAudit` / `<certificate key>`: the audit record and the certificate's work state:
 *   `opened` → `queued` (work items written) → `revoked` (grants and sessions revoked); accountId,
 *   reason, revokedAt, detectedAt, counts, and `clients`: client id → delivery state;
 * - `RevocationNotice` / `<certificate key>#<client id>`: one work item per (certificate, client):
 *   `pending` (attempts, nextAttemptAt, the logout token's stable jti) → `delivered` | `failed`.
 * Every transition is a conditional write and every step is idempotent, so a run killed at any
 * point is finished by the next: a feed chunk is deleted only after all its certificates reached
 * `revoked`; a delivery is recorded (pending → delivered, conditional) before the next one starts.
 * Only a kill between an RP's 200 and that record can deliver twice — with the same jti, which the
 * specification lets RPs use to drop replays.
 *
 * An RP that is down is retried within the run with exponential backoff (attemptsPerRun), then on
 * later runs (nextAttemptAt doubling from retryAfterSeconds up to 6 h) until maxAttempts, when the
 * work item becomes `failed` (logged as a warning, kept in the audit record).
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ClientMetadata } from 'oidc-provider';
import { DynamoAccountStore } from '../../accounts/dynamo-account-store.js';
import { NO_PREDECESSORS } from '../../op/dynamo-storage.js';
import { type OpLogger, stderrLogger } from '../../op/log.js';
import type { OpSecrets } from '../../secrets/op-secrets.js';
import { ClientRegistry } from '../../storage/client-registry.js';
import {
  createDynamoAdapter,
  type DynamoAdapterConstructor,
  listAccountArtifacts,
} from '../../storage/oidc-adapter.js';
import { partitionQuery, queryPages } from '../../storage/query-pages.js';
import { EXPIRES_AT_ATTRIBUTE, listedItemKey, PARTITION_KEY } from '../../storage/table.js';
import { pairwiseSubject } from '../../subject/pairwise-subject.js';
import { CrlStore } from '../crl-store.js';
import { deliverLogoutToken, signLogoutToken } from './logout-token.js';

const AUDIT_KIND = 'RevocationAudit';
const WORK_KIND = 'RevocationNotice';
/** oidc-provider models bound to a grant, revoked with it. */
const TOKEN_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
] as const;
/** The OP's default subject type (provider.ts clientDefaults). */
const DEFAULT_SUBJECT_TYPE = 'pairwise';
const CERT_LOOKUP_BATCH = 100;
const MAX_RETRY_DELAY_SECONDS = 6 * 3600;
/** Delivered and failed work items are kept this long (then TTL removes them; the audit stays). */
const FINISHED_WORK_TTL_SECONDS = 90 * 24 * 3600;

/** Points where a run records progress (the test hook `onStep` runs after each). */
export type NotifyStep = 'account-marked' | 'queued' | 'revoked' | 'feed-consumed' | 'delivered';

/** Options of NotifyJob. */
export interface NotifyJobOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The OP's issuer (iss of logout tokens). */
  readonly issuer: string;
  /** Signing keys and the subject secret (pairwise subs). */
  readonly secrets: OpSecrets;
  readonly logger?: OpLogger;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Time allowed for one delivery, ms (default 5 000). */
  readonly timeoutMs?: number;
  /** Delivery attempts per work item within one run (default 3). */
  readonly attemptsPerRun?: number;
  /** First in-run retry delay, ms, doubling (default 500). */
  readonly retryDelayMs?: number;
  /** Attempts over all runs before a work item is `failed` (default 12). */
  readonly maxAttempts?: number;
  /** First delay before the next run retries, seconds, doubling up to 6 h (default 60). */
  readonly retryAfterSeconds?: number;
  /** Time left for this run, ms; the run starts no new work below 0 (default: unlimited). */
  readonly timeLeftMs?: () => number;
  /** Called after each recorded step (tests throw here to simulate a run killed half-way). */
  readonly onStep?: (step: NotifyStep, detail: { certificateKey: string; clientId?: string }) => unknown;
}

/** What one run did. */
export interface NotifySummary {
  feedChunks: number;
  keysChecked: number;
  certificatesRevoked: number;
  notificationsQueued: number;
  delivered: number;
  retrying: number;
  failed: number;
  /** True when the run stopped for lack of time (the next run continues). */
  stoppedEarly: boolean;
}

/** A work item as stored. */
interface WorkItem {
  readonly sk: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly accountId: string;
  readonly certificateKey: string;
  readonly clientId: string;
  readonly uri: string;
  readonly sub?: string;
  readonly sid?: string;
  readonly alg: string;
  readonly jti: string;
  readonly attempts: number;
  readonly nextAttemptAt: number;
}

/** The audit record as stored (the fields the job reads). */
interface AuditRecord {
  readonly state: 'opened' | 'queued' | 'revoked';
}

/** A client to notify for one certificate. */
interface Target {
  readonly clientId: string;
  readonly uri: string;
  readonly sub: string;
  readonly sid?: string;
  readonly alg: string;
}

/** The job; one instance per run or reused across runs. */
export class NotifyJob {
  readonly #o: NotifyJobOptions;
  readonly #store: CrlStore;
  readonly #accounts: DynamoAccountStore;
  readonly #clients: ClientRegistry;
  readonly #Adapter: DynamoAdapterConstructor;
  readonly #logger: OpLogger;
  readonly #now: () => Date;

  constructor(options: NotifyJobOptions) {
    this.#o = options;
    const { client, tableName } = options;
    this.#store = new CrlStore({ client, tableName });
    this.#accounts = new DynamoAccountStore({
      client,
      tableName,
      secret: options.secrets.subjectSecret,
      predecessors: NO_PREDECESSORS,
    });
    this.#clients = new ClientRegistry({ client, tableName });
    this.#now = options.now ?? (() => new Date());
    this.#Adapter = createDynamoAdapter({ client, tableName, now: () => this.#now().getTime() });
    this.#logger = options.logger ?? stderrLogger;
  }

  /** One run: consume the feed, then deliver every due notification. */
  async run(): Promise<NotifySummary> {
    const summary: NotifySummary = {
      feedChunks: 0,
      keysChecked: 0,
      certificatesRevoked: 0,
      notificationsQueued: 0,
      delivered: 0,
      retrying: 0,
      failed: 0,
      stoppedEarly: false,
    };
    await this.#consumeFeed(summary);
    if (!summary.stoppedEarly) await this.#deliverDue(summary);
    this.#logger.info('revocation.notify.run', { ...summary });
    return summary;
  }

  #outOfTime(): boolean {
    return (this.#o.timeLeftMs?.() ?? Number.POSITIVE_INFINITY) <= 0;
  }

  async #step(step: NotifyStep, certificateKey: string, clientId?: string): Promise<void> {
    await this.#o.onStep?.(step, { certificateKey, ...(clientId === undefined ? {} : { clientId }) });
  }

  async #consumeFeed(summary: NotifySummary): Promise<void> {
    for await (const chunk of this.#store.feed()) {
      if (this.#outOfTime()) {
        summary.stoppedEarly = true;
        return;
      }
      for (let start = 0; start < chunk.accountKeys.length; start += CERT_LOOKUP_BATCH) {
        const keys = chunk.accountKeys.slice(start, start + CERT_LOOKUP_BATCH);
        summary.keysChecked += keys.length;
        const owners = await this.#accounts.accountsOfCertificateKeys(keys);
        for (const [certificateKey, accountId] of owners) {
          await this.#handleCertificate(certificateKey, accountId, chunk.caId, summary);
        }
      }
      await this.#store.deleteFeedChunk(chunk.id);
      summary.feedChunks++;
      await this.#step('feed-consumed', chunk.id);
    }
  }

  /** Brings one newly revoked certificate of a known account to `revoked` (idempotent). */
  async #handleCertificate(
    certificateKey: string,
    accountId: string,
    caId: string,
    summary: NotifySummary,
  ): Promise<void> {
    const revocation = await this.#store.revocation(certificateKey, caId);
    if (!revocation) return; // delisted since the import: nothing to do
    const audit = await this.#openAudit(certificateKey, accountId, caId, revocation);
    if (audit.state === 'revoked') return;

    await this.#accounts.markCertificateRevoked(accountId, certificateKey, revocation);
    await this.#step('account-marked', certificateKey);

    const { grants, sessions } = await this.#artifacts(accountId);
    const targets = await this.#targets(accountId, grants, sessions);
    const createdAt = this.#now().getTime();
    for (const target of targets) {
      const queued = await this.#conditionally(
        new PutItemCommand({
          TableName: this.#o.tableName,
          Item: marshall(
            {
              ...listedItemKey(WORK_KIND, `${certificateKey}#${target.clientId}`),
              state: 'pending',
              accountId,
              certificateKey,
              ...target,
              jti: randomUUID(),
              attempts: 0,
              nextAttemptAt: createdAt,
              createdAt,
            },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
      if (queued) summary.notificationsQueued++;
    }
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {
      ':queued': 'queued',
      ':pending': { state: 'pending' },
      ':grants': grants.length,
      ':sessions': sessions.length,
    };
    const sets = targets.map((target, index) => {
      names[`#c${index}`] = target.clientId;
      return `clients.#c${index} = if_not_exists(clients.#c${index}, :pending)`;
    });
    await this.#o.client.send(
      new UpdateItemCommand({
        TableName: this.#o.tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, certificateKey)),
        UpdateExpression: [
          'SET #state = :queued',
          'grantsRevoked = if_not_exists(grantsRevoked, :grants)',
          'sessionsRevoked = if_not_exists(sessionsRevoked, :sessions)',
          ...sets,
        ].join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
      }),
    );
    await this.#step('queued', certificateKey);

    for (const grant of grants) {
      for (const model of TOKEN_MODELS) await new this.#Adapter(model).revokeByGrantId(grant.id);
      await new this.#Adapter('Grant').destroy(grant.id);
    }
    for (const session of sessions) await new this.#Adapter('Session').destroy(session.id);
    await this.#o.client.send(
      new UpdateItemCommand({
        TableName: this.#o.tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, certificateKey)),
        UpdateExpression: 'SET #state = :revoked, completedAt = :at',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: marshall({ ':revoked': 'revoked', ':at': this.#now().toISOString() }),
      }),
    );
    summary.certificatesRevoked++;
    this.#logger.info('revocation.account.revoked', {
      accountId,
      certificateKey,
      reason: revocation.reason,
      grants: grants.length,
      sessions: sessions.length,
      clients: targets.map((target) => target.clientId),
    });
    await this.#step('revoked', certificateKey);
  }

  /** The audit record of the certificate, created (`opened`) when there is none. */
  async #openAudit(
    certificateKey: string,
    accountId: string,
    caId: string,
    revocation: { reason: string; revokedAt: Date },
  ): Promise<AuditRecord> {
    const key = listedItemKey(AUDIT_KIND, certificateKey);
    const { Item } = await this.#o.client.send(
      new GetItemCommand({ TableName: this.#o.tableName, Key: marshall(key), ConsistentRead: true }),
    );
    if (Item) return unmarshall(Item) as AuditRecord;
    const record = {
      ...key,
      state: 'opened' as const,
      accountId,
      certificateKey,
      caId,
      reason: revocation.reason,
      revokedAt: revocation.revokedAt.toISOString(),
      detectedAt: this.#now().toISOString(),
      clients: {},
    };
    const created = await this.#conditionally(
      new PutItemCommand({
        TableName: this.#o.tableName,
        Item: marshall(record),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      }),
    );
    if (created) return record;
    return this.#openAudit(certificateKey, accountId, caId, revocation);
  }

  /** The account's live grants and sessions (stale account-index pointers are skipped). */
  async #artifacts(accountId: string) {
    const grants: { id: string; clientId: string }[] = [];
    const sessions: { id: string; loginTs: number; authorizations: Record<string, { sid?: string }> }[] = [];
    for (const ref of await listAccountArtifacts(this.#o.client, this.#o.tableName, accountId)) {
      const payload = await new this.#Adapter(ref.model).find(ref.id);
      if (payload?.accountId !== accountId) continue;
      if (ref.model === 'Grant' && typeof payload.clientId === 'string') {
        grants.push({ id: ref.id, clientId: payload.clientId });
      } else if (ref.model === 'Session') {
        sessions.push({
          id: ref.id,
          loginTs: Number(payload.loginTs ?? 0),
          authorizations: (payload.authorizations ?? {}) as Record<string, { sid?: string }>,
        });
      }
    }
    sessions.sort((a, b) => b.loginTs - a.loginTs);
    return { grants, sessions };
  }

  /** The clients with a backchannel_logout_uri among those the account has a grant or session with. */
  async #targets(
    accountId: string,
    grants: readonly { clientId: string }[],
    sessions: readonly { authorizations: Record<string, { sid?: string }> }[],
  ): Promise<Target[]> {
    const clientIds = new Set([
      ...grants.map((grant) => grant.clientId),
      ...sessions.flatMap((session) => Object.keys(session.authorizations)),
    ]);
    const targets: Target[] = [];
    for (const clientId of [...clientIds].sort()) {
      const metadata = await this.#clients.get(clientId);
      const uri = metadata?.backchannel_logout_uri;
      if (!metadata || typeof uri !== 'string') continue;
      // The newest session's sid (sessions are sorted newest first); sub always.
      const sid = sessions.map((session) => session.authorizations[clientId]?.sid).find(Boolean);
      targets.push({
        clientId,
        uri,
        sub: this.#subject(metadata, accountId),
        ...(sid ? { sid } : {}),
        alg: String(metadata.id_token_signed_response_alg ?? 'RS256'),
      });
    }
    return targets;
  }

  /** The sub this client sees for the account (as provider.ts's pairwiseIdentifier computes it). */
  #subject(metadata: ClientMetadata, accountId: string): string {
    if ((metadata.subject_type ?? DEFAULT_SUBJECT_TYPE) === 'public') return accountId;
    const sectorUri = metadata.sector_identifier_uri ?? metadata.redirect_uris?.[0];
    if (typeof sectorUri !== 'string') throw new Error(`client ${metadata.client_id} has no sector`);
    return pairwiseSubject(this.#o.secrets.subjectSecret, new URL(sectorUri).host, accountId);
  }

  async #deliverDue(summary: NotifySummary): Promise<void> {
    const now = this.#now().getTime();
    const due: WorkItem[] = [];
    const query = partitionQuery(this.#o.tableName, WORK_KIND, {
      FilterExpression: '#state = :pending AND nextAttemptAt <= :now',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':pending': 'pending', ':now': now }),
    });
    for await (const items of queryPages(this.#o.client, query)) {
      due.push(...items.map((item) => unmarshall(item) as WorkItem));
    }
    for (const item of due) {
      if (this.#outOfTime()) {
        summary.stoppedEarly = true;
        return;
      }
      await this.#deliver(item, summary);
    }
  }

  async #deliver(item: WorkItem, summary: NotifySummary): Promise<void> {
    const perRun = this.#o.attemptsPerRun ?? 3;
    const maxAttempts = this.#o.maxAttempts ?? 12;
    let error: unknown;
    let tried = 0;
    while (tried < perRun && item.attempts + tried < maxAttempts) {
      if (tried > 0) await sleep((this.#o.retryDelayMs ?? 500) * 2 ** (tried - 1));
      tried++;
      try {
        const token = await signLogoutToken(this.#o.secrets, {
          issuer: this.#o.issuer,
          clientId: item.clientId,
          sub: item.sub,
          sid: item.sid,
          jti: item.jti,
          alg: item.alg,
          now: this.#now(),
        });
        await deliverLogoutToken(item.uri, token, {
          fetch: this.#o.fetch,
          timeoutMs: this.#o.timeoutMs ?? 5_000,
        });
        error = undefined;
        break;
      } catch (caught) {
        error = caught;
      }
    }
    const attempts = item.attempts + tried;
    const at = this.#now();
    const finishedTtl = Math.floor(at.getTime() / 1000) + FINISHED_WORK_TTL_SECONDS;
    const detail = (error as Error | undefined)?.message;
    let state: 'delivered' | 'retrying' | 'failed';
    let update: { expression: string; values: Record<string, unknown> };
    if (error === undefined) {
      state = 'delivered';
      update = {
        expression: 'SET #state = :delivered, attempts = :attempts, deliveredAt = :at, #ttl = :ttl',
        values: {
          ':delivered': 'delivered',
          ':attempts': attempts,
          ':at': at.toISOString(),
          ':ttl': finishedTtl,
        },
      };
    } else if (attempts >= maxAttempts) {
      state = 'failed';
      update = {
        expression: 'SET #state = :failed, attempts = :attempts, lastError = :error, #ttl = :ttl',
        values: { ':failed': 'failed', ':attempts': attempts, ':error': detail, ':ttl': finishedTtl },
      };
    } else {
      state = 'retrying';
      const delay = Math.min(
        MAX_RETRY_DELAY_SECONDS,
        (this.#o.retryAfterSeconds ?? 60) * 2 ** (attempts - 1),
      );
      update = {
        expression: 'SET attempts = :attempts, nextAttemptAt = :next, lastError = :error',
        values: { ':attempts': attempts, ':next': at.getTime() + delay * 1000, ':error': detail },
      };
    }
    const recorded = await this.#conditionally(
      new UpdateItemCommand({
        TableName: this.#o.tableName,
        Key: marshall(listedItemKey(WORK_KIND, item.sk)),
        UpdateExpression: update.expression,
        ConditionExpression: '#state = :pending AND attempts = :before',
        ExpressionAttributeNames: {
          '#state': 'state',
          ...(update.expression.includes('#ttl') ? { '#ttl': EXPIRES_AT_ATTRIBUTE } : {}),
        },
        ExpressionAttributeValues: marshall(
          { ...update.values, ':pending': 'pending', ':before': item.attempts },
          { removeUndefinedValues: true },
        ),
      }),
    );
    if (!recorded) return; // another run recorded this work item first
    await this.#o.client.send(
      new UpdateItemCommand({
        TableName: this.#o.tableName,
        Key: marshall(listedItemKey(AUDIT_KIND, item.certificateKey)),
        UpdateExpression: 'SET clients.#client = :state',
        ExpressionAttributeNames: { '#client': item.clientId },
        ExpressionAttributeValues: marshall({ ':state': { state, attempts, at: at.toISOString() } }),
      }),
    );
    if (state === 'delivered') {
      summary.delivered++;
      this.#logger.info('revocation.notified', {
        certificateKey: item.certificateKey,
        clientId: item.clientId,
      });
      await this.#step('delivered', item.certificateKey, item.clientId);
    } else if (state === 'failed') {
      summary.failed++;
      this.#logger.warn('revocation.notify.failed', {
        certificateKey: item.certificateKey,
        clientId: item.clientId,
        attempts,
        error: detail,
      });
    } else summary.retrying++;
  }

  /** Sends a conditional write; false when its condition failed. */
  async #conditionally(command: PutItemCommand | UpdateItemCommand): Promise<boolean> {
    try {
      await this.#o.client.send(command as PutItemCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** The audit records of revoked certificates (operator CLI and tests). */
export async function listRevocationAudit(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for await (const items of queryPages(client, partitionQuery(tableName, AUDIT_KIND))) {
    records.push(...items.map((item) => unmarshall(item)));
  }
  return records;
}
