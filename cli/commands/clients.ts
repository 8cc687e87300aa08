/**
 * `myna-oidc clients add|update|rotate-secret|show|list|remove`: the operator's client
 * registrations, stored through the same table the OP reads them from.
 *
 * Every write is checked first with oidc-provider's own client validation
 * (functions/op/client-metadata.ts), so what the OP would refuse at the first login is refused
 * here with the same message, and nothing is ever replaced by accident: `add` refuses an existing
 * client_id, `update` changes only the options given (conditionally, so concurrent edits are not
 * lost), `rotate-secret` is the only way to a new secret. Pairwise subjects are the default for
 * every client; `--raw-serial-claim` is the one dangerous switch and says so.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ClientMetadata } from 'oidc-provider';
import { DEFAULT_TABLE_NAME } from '../../functions/defaults.js';
import {
  CLIENT_NAME_JA_FIELD,
  CLIENT_PROFILES,
  FAPI2_CLIENT_ASSERTION_ALGORITHMS,
  FIRST_PARTY_FLAG,
  FRESH_LOGIN_FLAG,
  hasFlag,
  IDENTITY_EVIDENCE_FLAG,
  PROFILE_FIELD,
  PURPOSE_FIELD,
  PURPOSE_JA_FIELD,
  profileOf,
  RAW_SERIAL_FLAG,
  REMEMBER_IDENTITY_CONSENT_FLAG,
  RETAIN_IDENTITY_EVIDENCE_FLAG,
} from '../../functions/op/client-flags.js';
import {
  CLIENT_AUTH_METHODS,
  ID_TOKEN_SIGNING_ALGORITHMS,
  SECRET_AUTH_METHODS,
  validateClientMetadata,
} from '../../functions/op/client-metadata.js';
import { CLIENT_CACHE_TTL_MS } from '../../functions/op/storage-reads.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

/** The table name when --table is not given. */
export { DEFAULT_TABLE_NAME };

const AUTH_METHODS = CLIENT_AUTH_METHODS.join('|');
const ID_TOKEN_ALGS = ID_TOKEN_SIGNING_ALGORITHMS.join('|');

export const clientsUsage = `Usage:
  myna-oidc clients add <client_id> --redirect-uri <uri>... [options]
  myna-oidc clients update <client_id> [options]        changes only the options given
  myna-oidc clients rotate-secret <client_id>           a new client secret (the old one stops working)
  myna-oidc clients show <client_id> [--json]
  myna-oidc clients list [--json]
  myna-oidc clients remove <client_id>

Client options (add and update; on update an empty value, e.g. --logo-uri '', removes the field,
a repeated option replaces the whole list, and --no-<switch> turns a switch off):
  --redirect-uri <uri>...              where the OP sends the code (absolute, no fragment)
  --post-logout-redirect-uri <uri>...  where RP-initiated logout may return
  --client-name <text>                 the name users see on the login and consent pages
  --client-name-ja <text>              its Japanese version (client_name#ja)
  --logo-uri <https uri>               the RP's logo on those pages
  --policy-uri <uri>  --tos-uri <uri>  privacy policy and terms of service links
  --token-endpoint-auth-method <m>     ${AUTH_METHODS} (default client_secret_basic)
  --public                             same as --token-endpoint-auth-method none (PKCE only)
  --jwks-uri <https uri> | --jwks-file <file>   the client's public keys (private_key_jwt)
  --token-endpoint-auth-signing-alg <alg>       the alg of its client assertions (e.g. ES256)
  --id-token-signed-response-alg <alg> ${ID_TOKEN_ALGS} (default RS256)
  --dpop-bound-access-tokens           access tokens only with a DPoP proof (RFC 9449)
  --require-pushed-authorization-requests   authorization requests only through PAR (RFC 9126)
  --profile fapi2                      FAPI 2.0 Security Profile: sets and enforces PAR, PKCE,
                                       private_key_jwt (assertions ${FAPI2_CLIENT_ASSERTION_ALGORITHMS.join('/')}, ES256
                                       unless given), DPoP, ES256 ID tokens, https redirect URIs;
                                       needs --jwks-uri or --jwks-file; --profile '' removes it
  --subject-type pairwise|public       pairwise (default): each sector sees its own sub; public:
                                       the account id, the same at every public client, so they can
                                       link a person (after an account erasure too; My account says so)
  --sector-identifier-uri <https uri>  a JSON list of the redirect URIs: one sector for several hosts
  --backchannel-logout-uri <uri>       receives logout tokens (logout, revoked cards)
  --first-party                        a service of the operator: no consent screen
  --raw-serial-claim                   may receive the certificate serial (see below)
  --fresh-login                        no single sign-on: a new card login at every sign-in,
                                       so auth_time cannot link this RP to others
  --scope <scopes>                     the scopes it may ask for (default all: openid offline_access
                                       name address birthdate gender); leaving out an identity scope
                                       also keeps that fact out of its claims parameter
  --purpose <text>  --purpose-ja <text>   why it asks for identity claims (shown at the consent)
  --identity-evidence                  identity releases carry the evidence bundle (signed by the OP)
  --retain-identity-evidence           the OP keeps that evidence encrypted for the retention period
  --remember-identity-consent          identity consent may be remembered (default: every time)

Storage (every subcommand):
  --endpoint <url>   a local DynamoDB (npm start prints its endpoint); default: the AWS table
  --table <name>     table name (default ${DEFAULT_TABLE_NAME}); --region <region> for AWS

add and rotate-secret print a generated client secret once (client_secret_basic/post; update
too when it switches a client to one of those). Warm OP instances cache a client for
${CLIENT_CACHE_TTL_MS / 1000} s: an update, a new secret or a removal reaches all of them within that time.
Subjects are pairwise unless --subject-type public; the sector is the host name of the redirect
URIs (or of --sector-identifier-uri), so moving an RP to another port keeps every user's sub.
--raw-serial-claim lets the client receive the certificate serial number, which identifies a
person across services like a second MyNumber: enable it only where the law requires it.`;

const STRING_OPTIONS = {
  'client-name': 'client_name',
  'client-name-ja': CLIENT_NAME_JA_FIELD,
  'logo-uri': 'logo_uri',
  'policy-uri': 'policy_uri',
  'tos-uri': 'tos_uri',
  'token-endpoint-auth-method': 'token_endpoint_auth_method',
  'token-endpoint-auth-signing-alg': 'token_endpoint_auth_signing_alg',
  'jwks-uri': 'jwks_uri',
  'id-token-signed-response-alg': 'id_token_signed_response_alg',
  'subject-type': 'subject_type',
  'sector-identifier-uri': 'sector_identifier_uri',
  'backchannel-logout-uri': 'backchannel_logout_uri',
  profile: PROFILE_FIELD,
  scope: 'scope',
  purpose: PURPOSE_FIELD,
  'purpose-ja': PURPOSE_JA_FIELD,
} as const;

const LIST_OPTIONS = {
  'redirect-uri': 'redirect_uris',
  'post-logout-redirect-uri': 'post_logout_redirect_uris',
} as const;

const SWITCH_OPTIONS = {
  'first-party': FIRST_PARTY_FLAG,
  'raw-serial-claim': RAW_SERIAL_FLAG,
  'fresh-login': FRESH_LOGIN_FLAG,
  'identity-evidence': IDENTITY_EVIDENCE_FLAG,
  'retain-identity-evidence': RETAIN_IDENTITY_EVIDENCE_FLAG,
  'remember-identity-consent': REMEMBER_IDENTITY_CONSENT_FLAG,
  'dpop-bound-access-tokens': 'dpop_bound_access_tokens',
  'require-pushed-authorization-requests': 'require_pushed_authorization_requests',
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  const strings = Object.fromEntries(
    [...Object.keys(STRING_OPTIONS), 'endpoint', 'region', 'jwks-file'].map((name) => [
      name,
      { type: 'string' as const },
    ]),
  ) as Record<keyof typeof STRING_OPTIONS | 'endpoint' | 'region' | 'jwks-file', { type: 'string' }>;
  const lists = Object.fromEntries(
    Object.keys(LIST_OPTIONS).map((name) => [name, { type: 'string' as const, multiple: true as const }]),
  ) as Record<keyof typeof LIST_OPTIONS, { type: 'string'; multiple: true }>;
  const switches = Object.fromEntries(
    [...Object.keys(SWITCH_OPTIONS), 'public'].map((name) => [name, { type: 'boolean' as const }]),
  ) as Record<keyof typeof SWITCH_OPTIONS | 'public', { type: 'boolean' }>;
  return parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    strict: true,
    options: {
      ...strings,
      ...lists,
      ...switches,
      table: { type: 'string', default: DEFAULT_TABLE_NAME },
      json: { type: 'boolean', default: false },
    },
  });
}

/** The metadata of a new client before the options apply. */
function newClient(clientId: string): ClientMetadata {
  return {
    client_id: clientId,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    subject_type: 'pairwise',
    token_endpoint_auth_method: 'client_secret_basic',
    [FIRST_PARTY_FLAG]: false,
    [RAW_SERIAL_FLAG]: false,
  };
}

/** What FAPI 2.0 asks of a client's metadata, applied under the options given explicitly. */
const FAPI2_METADATA: Partial<ClientMetadata> = {
  require_pushed_authorization_requests: true,
  dpop_bound_access_tokens: true,
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: 'ES256',
  id_token_signed_response_alg: 'ES256',
};

/** The metadata fields the given options set (undefined: remove the field). */
async function changesOf(values: Values): Promise<Partial<ClientMetadata>> {
  const changes: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(STRING_OPTIONS)) {
    const value = values[option as keyof typeof STRING_OPTIONS];
    if (value !== undefined) changes[field] = value === '' ? undefined : value;
  }
  for (const [option, field] of Object.entries(LIST_OPTIONS)) {
    const value = values[option as keyof typeof LIST_OPTIONS];
    if (value !== undefined) changes[field] = value.filter((uri) => uri !== '');
  }
  for (const [option, field] of Object.entries(SWITCH_OPTIONS)) {
    const value = values[option as keyof typeof SWITCH_OPTIONS];
    if (value !== undefined) changes[field] = value;
  }
  if (values.public !== undefined) {
    const given = values['token-endpoint-auth-method'];
    const implied = values.public ? 'none' : 'client_secret_basic';
    if (given !== undefined && given !== implied) {
      throw new UsageError(
        `--${values.public ? '' : 'no-'}public contradicts --token-endpoint-auth-method ${given}`,
      );
    }
    changes.token_endpoint_auth_method = implied;
  }
  const method = values['token-endpoint-auth-method'];
  if (method !== undefined && !CLIENT_AUTH_METHODS.some((known) => known === method)) {
    throw new UsageError(`--token-endpoint-auth-method must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  }
  const profile = values.profile;
  if (profile && !CLIENT_PROFILES.some((known) => known === profile)) {
    throw new UsageError(`--profile must be ${CLIENT_PROFILES.join(' or ')} (or '' to remove it)`);
  }
  if (values['jwks-file'] !== undefined) {
    if (values['jwks-uri'] !== undefined) throw new UsageError('give --jwks-uri or --jwks-file, not both');
    changes.jwks = values['jwks-file'] === '' ? undefined : await readJwks(values['jwks-file']);
    changes.jwks_uri = undefined;
  } else if (values['jwks-uri'] !== undefined) {
    changes.jwks = undefined;
  }
  return changes as Partial<ClientMetadata>;
}

/** A JWKS file: `{ "keys": [...] }` or one JWK. */
async function readJwks(path: string): Promise<{ keys: unknown[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--jwks-file ${path}: not a readable JSON file (${(error as Error).message})`);
  }
  const jwks =
    parsed && typeof parsed === 'object' && Array.isArray((parsed as { keys?: unknown }).keys)
      ? (parsed as { keys: unknown[] })
      : parsed && typeof parsed === 'object' && 'kty' in parsed
        ? { keys: [parsed] }
        : undefined;
  if (!jwks) throw new UsageError(`--jwks-file ${path}: expected a JWK Set ({"keys": [...]}) or one JWK`);
  if (jwks.keys.some((key) => PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(Object(key), member)))) {
    throw new UsageError(
      `--jwks-file ${path} holds private or secret key material: give the relying party's public keys only`,
    );
  }
  return jwks;
}

/** JWK members that only private or symmetric keys have (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/**
 * `current` with `changes` applied (FAPI 2.0's requirements first when the profile is being turned
 * on, so explicit options still win and are then validated), fields set to undefined removed, and
 * the secret generated or dropped to match the auth method. Returns the new secret, if any.
 */
function applyChanges(
  current: ClientMetadata,
  changes: Partial<ClientMetadata>,
): { metadata: ClientMetadata; newSecret?: string } {
  const enablesFapi2 = changes[PROFILE_FIELD] === 'fapi2' && profileOf(current) !== 'fapi2';
  const merged: Record<string, unknown> = { ...current, ...(enablesFapi2 ? FAPI2_METADATA : {}), ...changes };
  for (const [field, value] of Object.entries(merged)) if (value === undefined) delete merged[field];
  const metadata = merged as ClientMetadata;
  if (!SECRET_AUTH_METHODS.has(String(metadata.token_endpoint_auth_method))) {
    delete metadata.client_secret;
    return { metadata };
  }
  if (metadata.client_secret) return { metadata };
  const newSecret = generateSecret();
  return { metadata: { ...metadata, client_secret: newSecret }, newSecret };
}

function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Runs `clients <subcommand>`. */
export async function clientsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  const [subcommand, clientId, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (!subcommand) throw new UsageError('clients needs a subcommand');
  if (!SUBCOMMANDS.has(subcommand)) throw new UsageError(`unknown clients subcommand: ${subcommand}`);
  const registry = new ClientRegistry({
    client: createDynamoClient({ endpoint: values.endpoint, region: values.region }),
    tableName: values.table,
  });

  if (subcommand === 'list') {
    const clients = await registry.list();
    if (values.json) io.out(JSON.stringify(clients.map(withoutSecret), null, 2));
    else if (clients.length === 0) io.out('No clients registered.');
    else for (const client of clients) io.out(summary(client));
    return ExitCode.OK;
  }
  if (!clientId) throw new UsageError(`clients ${subcommand} needs a <client_id>`);
  switch (subcommand) {
    case 'remove':
      if (await registry.remove(clientId)) {
        io.out(`Removed client ${clientId}.${CACHE_NOTE}`);
        return ExitCode.OK;
      }
      io.err(`No client ${clientId}.`);
      return ExitCode.FAILED;
    case 'show': {
      const client = await registry.get(clientId);
      if (!client) {
        io.err(`No client ${clientId}.`);
        return ExitCode.FAILED;
      }
      io.out(values.json ? JSON.stringify(withoutSecret(client), null, 2) : details(client));
      return ExitCode.OK;
    }
    case 'rotate-secret':
      return rotateSecret(registry, clientId, io);
    case 'add': {
      if ((values['redirect-uri'] ?? []).length === 0) {
        throw new UsageError('clients add needs at least one --redirect-uri');
      }
      const { metadata, newSecret } = applyChanges(newClient(clientId), await changesOf(values));
      await validateClientMetadata(metadata);
      await registry.add(metadata);
      io.out(`Registered client ${clientId} (${summaryFlags(metadata).join(', ')}).`);
      reportSecret(newSecret, io);
      warnRawSerial(metadata, io);
      return ExitCode.OK;
    }
    default: {
      const changes = await changesOf(values);
      if (Object.keys(changes).length === 0)
        throw new UsageError('clients update needs at least one option to change');
      let newSecret: string | undefined;
      const { metadata } = await registry.update(clientId, async (current) => {
        const next = applyChanges(current, changes);
        await validateClientMetadata(next.metadata);
        newSecret = next.newSecret;
        return next.metadata;
      });
      io.out(`Updated client ${clientId} (${summaryFlags(metadata).join(', ')}).${CACHE_NOTE}`);
      reportSecret(newSecret, io);
      if (changes[RAW_SERIAL_FLAG] === true) warnRawSerial(metadata, io);
      return ExitCode.OK;
    }
  }
}

/** rotate-secret for a client that authenticates without a secret. */
export class ClientSecretError extends Error {
  override name = 'ClientSecretError';
  readonly code = 'NO_CLIENT_SECRET';
}

/** Warm OP instances cache client metadata (storage-reads.ts): what a change means for them. */
const CACHE_NOTE = `\nRunning OP instances use the previous metadata for up to ${CLIENT_CACHE_TTL_MS / 1000} s.`;

const SUBCOMMANDS: ReadonlySet<string> = new Set([
  'add',
  'update',
  'rotate-secret',
  'show',
  'list',
  'remove',
]);

async function rotateSecret(registry: ClientRegistry, clientId: string, io: CliIo): Promise<number> {
  const secret = generateSecret();
  await registry.update(clientId, (current) => {
    if (!SECRET_AUTH_METHODS.has(String(current.token_endpoint_auth_method ?? 'client_secret_basic'))) {
      throw new ClientSecretError(
        `client ${clientId} authenticates with ${current.token_endpoint_auth_method}: it has no secret to rotate`,
      );
    }
    return { ...current, client_secret: secret };
  });
  io.out(`New secret for client ${clientId}; the previous one no longer works.${CACHE_NOTE}`);
  reportSecret(secret, io);
  return ExitCode.OK;
}

function reportSecret(secret: string | undefined, io: CliIo): void {
  if (secret) io.out(`client_secret: ${secret}\n(shown once: store it in the relying party's secret store)`);
}

function warnRawSerial(metadata: ClientMetadata, io: CliIo): void {
  if (hasFlag(metadata, RAW_SERIAL_FLAG)) {
    io.err(
      'WARNING: this client will receive raw certificate serial numbers, which identify a person across services. The OP logs this at every start.',
    );
  }
}

function withoutSecret(client: ClientMetadata): ClientMetadata {
  const { client_secret: _secret, ...rest } = client;
  return rest;
}

function summaryFlags(client: ClientMetadata): string[] {
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
  return [
    method === 'none' ? 'public, PKCE required' : `confidential, ${method}`,
    `${client.subject_type ?? 'pairwise'} sub`,
    profileOf(client) === 'fapi2' ? 'FAPI 2.0' : undefined,
    hasFlag(client, FIRST_PARTY_FLAG) ? 'first-party' : undefined,
    hasFlag(client, RAW_SERIAL_FLAG) ? 'RAW SERIAL CLAIM' : undefined,
    hasFlag(client, FRESH_LOGIN_FLAG) ? 'fresh login' : undefined,
    hasFlag(client, IDENTITY_EVIDENCE_FLAG) ? 'identity evidence' : undefined,
    hasFlag(client, RETAIN_IDENTITY_EVIDENCE_FLAG) ? 'retains identity evidence' : undefined,
    hasFlag(client, REMEMBER_IDENTITY_CONSENT_FLAG) ? 'remembers identity consent' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
}

function summary(client: ClientMetadata): string {
  return `${client.client_id}  [${summaryFlags(client).join(', ')}]  ${(client.redirect_uris ?? []).join(' ')}`;
}

/** `show`: one `field: value` line per registered field, the secret only as "(set)". */
function details(client: ClientMetadata): string {
  const lines = Object.entries(client).map(([field, value]) => {
    const shown =
      field === 'client_secret'
        ? '(set; replace it with clients rotate-secret)'
        : typeof value === 'string'
          ? value
          : JSON.stringify(value);
    return `${field}: ${shown}`;
  });
  return [`${client.client_id}  [${summaryFlags(client).join(', ')}]`, ...lines].join('\n');
}
