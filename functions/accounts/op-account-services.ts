/**
 * The account services as the OP runs them (the account page, op/account/): on the OP's table,
 * with clients as the provider finds them, and one attempt at once of every back-channel logout
 * they queue (the sender RP-initiated logout uses, op/backchannel-logout.ts); the scheduled job
 * retries what fails.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../op/account/account-client.js';
import { opBackchannelSender } from '../op/backchannel-logout.js';
import type { OpStorage, ResolvedOpConfig } from '../op/config.js';
import { noDeliveries } from '../revocation/notification/backchannel-sender.js';
import type { ReleaseHistory } from '../storage/release-history.js';
import { AccountServices } from './account-services.js';
import { type ClaimsByScope, type IssuedCode, releaseOfCode } from './release-of-code.js';

/** The OP's own clients: never in the release history, never a "service" of the account page. */
const INTERNAL_CLIENT_IDS: readonly string[] = [ACCOUNT_CLIENT_ID];

/** The routes on which oidc-provider issues an authorization code (with or without an interaction). */
const CODE_ISSUING_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume']);

/** What recordCodeRelease reads of oidc-provider's request context (ctx.oidc). */
export interface CodeIssuingContext {
  readonly route?: string;
  readonly entities: {
    readonly AuthorizationCode?: IssuedCode;
    readonly Grant?: { getOIDCClaims(): string[] };
  };
}

/**
 * Records the release of the authorization code that the request `oidc` issued (op/provider.ts,
 * after the request's work): one unconditional PutItem, held by the request scope into the
 * request's one BatchWriteItem (no extra DynamoDB call). `myna`: the interaction result's `myna`
 * (op/interactions/identity-prompt.ts MynaResult): `identity.claimNames` name the identity facts
 * released in this transaction, `sealedSerial` says the raw serial goes with the code. The claim
 * names are what the code's grant accepted (release-of-code.ts). Nothing for another route (the
 * token endpoint also has a code entity), an internal client or a storage without account data.
 */
export async function recordCodeRelease(
  storage: OpStorage,
  oidc: CodeIssuingContext | undefined,
  claimsByScope: ClaimsByScope,
  myna?: object,
): Promise<void> {
  const history = storage.accountData?.releaseHistory;
  const code = oidc?.entities.AuthorizationCode;
  const route = oidc?.route;
  if (!history || !code || route === undefined || !CODE_ISSUING_ROUTES.has(route)) return;
  if (code.clientId === undefined || INTERNAL_CLIENT_IDS.includes(code.clientId)) return;
  // The interaction result as stored: only strings are names.
  const result = myna as { identity?: { claimNames?: unknown }; sealedSerial?: unknown } | undefined;
  const names = result?.identity?.claimNames;
  const entry = releaseOfCode(code, claimsByScope, new Date(), {
    grantedClaims: oidc?.entities.Grant?.getOIDCClaims() ?? [],
    identityClaims: Array.isArray(names) ? names.filter((name) => typeof name === 'string') : [],
    rawSerial: typeof result?.sealedSerial === 'string',
  });
  if (entry) await history.record(entry);
}

/** The OP storage's table for the account services and the release history (OpStorage.accountData). */
export interface AccountDataStorage {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Written once per login at code issuance (op/provider.ts), shown by the account page. */
  readonly releaseHistory: ReleaseHistory;
}

/** Raised when the OP's storage has no account data (a storage without a table). */
export class AccountServicesUnavailableError extends Error {
  override name = 'AccountServicesUnavailableError';
  readonly code = 'ACCOUNT_SERVICES_UNAVAILABLE';
}

/**
 * The account services of `provider`; the OP's own clients (the account page's, and any
 * `internalClientIds`) are never listed, withdrawn or notified. Throws
 * AccountServicesUnavailableError when the storage has no `accountData`.
 */
export function accountServicesFor(
  provider: Provider,
  config: ResolvedOpConfig,
  options: { readonly internalClientIds?: readonly string[] } = {},
): AccountServices {
  const data = config.storage.accountData;
  if (!data) throw new AccountServicesUnavailableError('the OP storage has no account data (accountData)');
  const sender = opBackchannelSender(provider, config);
  return new AccountServices({
    client: data.client,
    tableName: data.tableName,
    history: data.releaseHistory,
    pairwiseSecret: config.secrets.pairwiseSecret,
    findClient: async (clientId) => (await provider.Client.find(clientId))?.metadata(),
    logoutQueue: config.storage.logoutQueue,
    deliver: (delivery) => sender.send(delivery, noDeliveries(), 1),
    internalClientIds: [...INTERNAL_CLIENT_IDS, ...(options.internalClientIds ?? [])],
  });
}
