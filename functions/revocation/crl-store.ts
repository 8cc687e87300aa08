/**
 * Revoked certificates on the single table (storage/table.ts), written from verified CRLs. Items:
 * - `REVOKED#<certificate key>` / sk `<scope>` (`<CA id>/<partition>`): reason and revocation time of
 *   one certificate as ONE scope lists it, keyed by the certificate key of issuer + serial (the same
 *   key as the account's certificate, never a serial). A certificate listed by both its
 *   municipality CRL and a whole-CA CRL has one entry per scope, and each import adds and deletes
 *   only its own scope's entries, so it stays `revoked` while any scope lists it. The CA id is the
 *   hash of the issuing CA's key: an entry never applies to a certificate of another generation
 *   with the same DN and serial. (Entries of the earlier layout, sk `<CA id>`, are still read as
 *   revoked and never deleted by an import: they fail closed.)
 * - `CRL#<scope>`: the last import of a scope (CA key + CRL partition): cRLNumber, thisUpdate,
 *   nextUpdate, entry count and the id and chunk count of its snapshot;
 * - `CRLSNAP#<scope>@<snapshot id>` / sk `<chunk>`: the scope's sorted 32-byte keys, 12 000 per item;
 * - `CRLFEED` / sk `<time>#<snapshot id>#<chunk>` (one listable partition): the keys an import
 *   ADDED, 12 000 per item, for the notification job (notification/notify-job.ts), which consumes
 *   and deletes them. Written after the entry puts and before the commit, so a feed item never
 *   names a key that is not stored yet, and an import re-run after a crash writes it again.
 *
 * An import writes only the delta against the previous snapshot, in an order a crash cannot hurt:
 * the new snapshot, then entry puts and deletes (idempotent), then the CRL item (conditional on
 * the snapshot it was diffed against, so concurrent imports cannot both commit), then the old
 * snapshot's deletion. Re-running an interrupted import redoes the same idempotent writes.
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { TrustAnchors } from '../jpki/trust-anchors.js';
import { batchDelete, batchPut } from '../storage/batch-delete.js';
import { partitionQuery, queryPages } from '../storage/query-pages.js';
import { itemKey, listedItemKey, PARTITION_KEY, SORT_KEY, type TableKey } from '../storage/table.js';
import type { KeyedHashSecret } from '../subject/keyed-hash.js';
import { CrlError, REASONS } from './crl.js';
import { type IngestedCrl, ingestCrlFile } from './crl-ingest.js';
import type { StreamedCrl } from './crl-stream.js';
import type { RevocationReason } from './revocation-source.js';
import { KEY_BYTES } from './revoked-set.js';

const REVOKED_KIND = 'REVOKED';
const CRL_KIND = 'CRL';
const SNAPSHOT_KIND = 'CRLSNAP';
const FEED_KIND = 'CRLFEED';
/** Keys per snapshot item: 384 000 bytes, under DynamoDB's 400 KB item limit. */
const KEYS_PER_CHUNK = 12_000;
/** Entries marshalled at a time while writing (bounds the request objects alive at once). */
const WRITE_SLICE = 5_000;

/** The last import of one CRL scope. */
export interface CrlMetadata {
  readonly scope: string;
  readonly caId: string;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Distinct revoked certificates listed. */
  readonly size: number;
  readonly snapshotId: string;
  readonly snapshotChunks: number;
}

/** Keys one import added to a scope (one feed item). */
export interface FeedChunk {
  readonly id: string;
  readonly caId: string;
  readonly scope: string;
  /** Certificate keys (base64url) of the newly listed certificates. */
  readonly certificateKeys: readonly string[];
}

/** A stored revocation. */
export interface StoredRevocation {
  readonly reason: RevocationReason;
  readonly revokedAt: Date;
}

/** What one import did. */
export interface ImportSummary {
  readonly scope: string;
  readonly caId: string;
  readonly generation: string;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly added: number;
  readonly removed: number;
  /** Reading, verifying, keying and diffing, in milliseconds. */
  readonly readMs: number;
  /** Storage writes, in milliseconds. */
  readonly writeMs: number;
}

/** Options of CrlStore. */
export interface CrlStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** BatchWriteItem requests in flight during an import (default 8). */
  readonly writeConcurrency?: number;
}

/** Options of one import. */
export interface ImportOptions {
  readonly anchors: TrustAnchors;
  readonly secret: KeyedHashSecret;
  readonly now: Date;
  /** Accepted clock difference and lateness past nextUpdate, in seconds (default 0). */
  readonly graceSeconds?: number;
}

/** Revoked certificates and CRL metadata in DynamoDB; see the module comment. */
export class CrlStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #concurrency: number;

  constructor(options: CrlStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#concurrency = options.writeConcurrency ?? 8;
  }

  /**
   * The stored revocation of the certificate with this certificate key from CA `caId`, if any scope
   * of that CA lists it (one strongly consistent Query of the certificate's entries; the earliest
   * revocation when several scopes list it).
   */
  async revocation(certificateKey: string, caId: string): Promise<StoredRevocation | undefined> {
    const { Items = [] } = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :caId)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
        ExpressionAttributeValues: {
          ':pk': { S: itemKey(REVOKED_KIND, certificateKey).pk },
          ':caId': { S: caId },
        },
        ConsistentRead: true,
      }),
    );
    const revocations = Items.map((item) => ({
      reason: (item.reason?.S ?? 'unspecified') as RevocationReason,
      revokedAt: new Date(item.revokedAt?.S ?? 0),
    }));
    revocations.sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime());
    return revocations[0];
  }

  /** The last import of `scope` (see crl-scope.ts), if any. */
  async metadata(scope: string): Promise<CrlMetadata | undefined> {
    const item = await this.#get(itemKey(CRL_KIND, scope));
    if (!item) return undefined;
    return {
      scope,
      caId: item.caId?.S ?? '',
      crlNumber: item.crlNumber?.S === undefined ? undefined : BigInt(item.crlNumber.S),
      thisUpdate: new Date(item.thisUpdate?.S ?? 0),
      nextUpdate: new Date(item.nextUpdate?.S ?? 0),
      size: Number(item.size?.N ?? 0),
      snapshotId: item.snapshotId?.S ?? '',
      snapshotChunks: Number(item.snapshotChunks?.N ?? 0),
    };
  }

  /**
   * Imports one DER CRL file: verifies it (CrlError CRL_MALFORMED, CRL_UNTRUSTED,
   * CRL_UNSUPPORTED, CRL_NOT_CURRENT), refuses it when its cRLNumber or thisUpdate is behind
   * the last import of its scope (CRL_NOT_NEWER), and writes what changed.
   */
  async importFile(path: string, options: ImportOptions): Promise<ImportSummary> {
    const started = performance.now();
    let previous: CrlMetadata | undefined;
    const ingested = await ingestCrlFile(path, {
      anchors: options.anchors,
      secret: options.secret,
      now: options.now,
      graceSeconds: options.graceSeconds ?? 0,
      previous: async (scope, crl) => {
        previous = await this.metadata(scope);
        if (!previous) return [];
        checkNewer(crl, previous);
        return this.#snapshotChunks(previous);
      },
    });
    const read = performance.now();
    await this.#write(ingested, previous);
    const { crl, scope, delta } = ingested;
    return {
      scope,
      caId: crl.signer.id,
      generation: crl.signer.generation,
      crlNumber: crl.crlNumber,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate as Date,
      entries: delta.size,
      added: delta.added.length,
      removed: delta.removed.length / KEY_BYTES,
      readMs: read - started,
      writeMs: performance.now() - read,
    };
  }

  async #write({ crl, scope, set, delta }: IngestedCrl, previous: CrlMetadata | undefined): Promise<void> {
    const caId = crl.signer.id;
    const snapshotId = `${crl.crlNumber ?? ''}-${randomUUID()}`;
    let chunks = 0;
    for (const keys of set.snapshot(KEYS_PER_CHUNK)) {
      const item = { ...this.#key(snapshotKey(scope, snapshotId, chunks++)), keys: { B: keys } };
      await batchPut(this.#client, this.#table, [item]);
    }
    for (let start = 0; start < delta.added.length; start += WRITE_SLICE) {
      const items = Array.from(delta.added.subarray(start, start + WRITE_SLICE), (index) => {
        const record = set.recordAt(index);
        return {
          ...this.#key(itemKey(REVOKED_KIND, record.key.toString('base64url'), scope)),
          reason: { S: REASONS[record.reasonCode] ?? 'unspecified' },
          revokedAt: { S: record.revokedAt.toISOString() },
        };
      });
      await batchPut(this.#client, this.#table, items, this.#concurrency);
    }
    await this.#writeFeed(caId, scope, snapshotId, set, delta.added);
    const removedKeys = [];
    for (let at = 0; at < delta.removed.length; at += KEY_BYTES) {
      const key = delta.removed.subarray(at, at + KEY_BYTES).toString('base64url');
      removedKeys.push(this.#key(itemKey(REVOKED_KIND, key, scope)));
    }
    await batchDelete(this.#client, this.#table, removedKeys, this.#concurrency);
    await this.#commit(crl, scope, { size: delta.size, snapshotId, chunks }, previous);
    if (previous) {
      const old = Array.from({ length: previous.snapshotChunks }, (_, index) =>
        this.#key(snapshotKey(scope, previous?.snapshotId ?? '', index)),
      );
      await batchDelete(this.#client, this.#table, old, this.#concurrency);
    }
  }

  async #writeFeed(
    caId: string,
    scope: string,
    snapshotId: string,
    set: IngestedCrl['set'],
    added: IngestedCrl['delta']['added'],
  ): Promise<void> {
    const stamp = new Date().toISOString();
    for (let start = 0, chunk = 0; start < added.length; start += KEYS_PER_CHUNK, chunk++) {
      const slice = added.subarray(start, start + KEYS_PER_CHUNK);
      const keys = Buffer.alloc(slice.length * KEY_BYTES);
      slice.forEach((index, at) => {
        set.recordAt(index).key.copy(keys, at * KEY_BYTES);
      });
      const sort = `${stamp}#${snapshotId}#${String(chunk).padStart(6, '0')}`;
      const item = {
        ...this.#key(listedItemKey(FEED_KIND, sort)),
        caId: { S: caId },
        scope: { S: scope },
        keys: { B: keys },
      };
      await batchPut(this.#client, this.#table, [item]);
    }
  }

  /** The feed of newly revoked keys, oldest first (see the module comment). */
  async *feed(): AsyncGenerator<FeedChunk> {
    for await (const items of queryPages(
      this.#client,
      partitionQuery(this.#table, FEED_KIND, { Limit: 4 }),
    )) {
      for (const item of items) {
        const keys = Buffer.from(item.keys?.B ?? new Uint8Array());
        const certificateKeys: string[] = [];
        for (let at = 0; at + KEY_BYTES <= keys.length; at += KEY_BYTES) {
          certificateKeys.push(keys.subarray(at, at + KEY_BYTES).toString('base64url'));
        }
        yield {
          id: item[SORT_KEY]?.S ?? '',
          caId: item.caId?.S ?? '',
          scope: item.scope?.S ?? '',
          certificateKeys,
        };
      }
    }
  }

  /** Removes a consumed feed chunk. */
  async deleteFeedChunk(id: string): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({ TableName: this.#table, Key: this.#key(listedItemKey(FEED_KIND, id)) }),
    );
  }

  async #commit(
    crl: StreamedCrl,
    scope: string,
    snapshot: { size: number; snapshotId: string; chunks: number },
    previous: CrlMetadata | undefined,
  ): Promise<void> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...this.#key(itemKey(CRL_KIND, scope)),
            caId: { S: crl.signer.id },
            ...(crl.crlNumber === undefined ? {} : { crlNumber: { S: crl.crlNumber.toString() } }),
            thisUpdate: { S: crl.thisUpdate.toISOString() },
            nextUpdate: { S: (crl.nextUpdate as Date).toISOString() },
            size: { N: String(snapshot.size) },
            snapshotId: { S: snapshot.snapshotId },
            snapshotChunks: { N: String(snapshot.chunks) },
          },
          ConditionExpression: previous ? 'snapshotId = :previous' : `attribute_not_exists(${PARTITION_KEY})`,
          ...(previous ? { ExpressionAttributeValues: { ':previous': { S: previous.snapshotId } } } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new CrlError('CRL_NOT_NEWER', `another import of CRL scope ${scope} committed first`, {
        cause: error,
      });
    }
  }

  async *#snapshotChunks(metadata: CrlMetadata): AsyncGenerator<Uint8Array> {
    for (let index = 0; index < metadata.snapshotChunks; index++) {
      const item = await this.#get(snapshotKey(metadata.scope, metadata.snapshotId, index));
      const keys = item?.keys?.B;
      if (!keys)
        throw new CrlError(
          'CRL_STORE_INCONSISTENT',
          `snapshot chunk ${index} of ${metadata.scope} is missing`,
        );
      yield keys;
    }
  }

  async #get(key: TableKey): Promise<Record<string, AttributeValue> | undefined> {
    const output = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: this.#key(key), ConsistentRead: true }),
    );
    return output.Item;
  }

  #key(key: TableKey): Record<string, AttributeValue> {
    return { [PARTITION_KEY]: { S: key.pk }, [SORT_KEY]: { S: key.sk } };
  }
}

function snapshotKey(scope: string, snapshotId: string, index: number): TableKey {
  return itemKey(SNAPSHOT_KIND, `${scope}@${snapshotId}`, String(index).padStart(6, '0'));
}

/** CRL numbers (and thisUpdate) of a scope never go backwards; the same CRL again is allowed. */
function checkNewer(crl: StreamedCrl, previous: CrlMetadata): void {
  const numberBehind =
    crl.crlNumber !== undefined && previous.crlNumber !== undefined && crl.crlNumber < previous.crlNumber;
  if (numberBehind || crl.thisUpdate.getTime() < previous.thisUpdate.getTime()) {
    throw new CrlError(
      'CRL_NOT_NEWER',
      `CRL number ${crl.crlNumber ?? '(none)'} of ${crl.thisUpdate.toISOString()} is older than the imported number ${previous.crlNumber ?? '(none)'}`,
    );
  }
}
