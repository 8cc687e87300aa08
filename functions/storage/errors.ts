/**
 * Failures of the storage layer, each with a stable `code` (logs, metrics and the operator CLI use
 * it). Messages carry identifiers of stored items at most, never personal data.
 */
export const StorageErrorCode = {
  /** The table did not become ACTIVE in time. */
  TABLE_NOT_ACTIVE: 'TABLE_NOT_ACTIVE',
  /** BatchWriteItem kept returning UnprocessedItems after every retry. */
  UNPROCESSED_ITEMS: 'UNPROCESSED_ITEMS',
  /** list() was called on a model whose items are not kept in a listable partition. */
  MODEL_NOT_LISTED: 'MODEL_NOT_LISTED',
  /** consume() of an item that was already consumed, has expired or does not exist. */
  ALREADY_CONSUMED: 'ALREADY_CONSUMED',
  /** Client metadata without a usable client_id. */
  CLIENT_ID_MISSING: 'CLIENT_ID_MISSING',
  /** A client with this client_id is already registered (registration never replaces one). */
  CLIENT_EXISTS: 'CLIENT_EXISTS',
  /** No client with this client_id is registered. */
  CLIENT_NOT_FOUND: 'CLIENT_NOT_FOUND',
  /** The client kept changing under a conditional update (another writer); nothing was written. */
  CLIENT_CHANGED: 'CLIENT_CHANGED',
  /** A replay-detection entry (DPoP proof, client assertion) of this id is already stored and unexpired. */
  ALREADY_SEEN: 'ALREADY_SEEN',
  /** An interaction had as many challenges or answers as allowed (ChallengeLimitError, challenge-store.ts). */
  LIMIT_REACHED: 'LIMIT_REACHED',
  /** A rate counter's window kept being reset by concurrent hits; the hit was not counted. */
  COUNTER_CHANGED: 'COUNTER_CHANGED',
} as const;

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** A storage failure with a stable `code`. */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
