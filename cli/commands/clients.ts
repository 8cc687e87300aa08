/**
 * `myna-oidc clients add|list|remove`: the operator's client registrations, stored through the
 * same table adapter the OP reads them from. Pairwise subjects are the default for every client;
 * `--raw-serial-claim` is the one dangerous switch and says so.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { ClientMetadata } from 'oidc-provider';
import { FIRST_PARTY_FLAG, RAW_SERIAL_FLAG } from '../../functions/op/client-flags.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

/** The table name when --table is not given. */
export const DEFAULT_TABLE_NAME = 'myna-oidc';

export const clientsUsage = `Usage:
  myna-oidc clients add <client_id> --redirect-uri <uri>... [--post-logout-redirect-uri <uri>]...
                        [--public] [--first-party] [--subject-type pairwise|public]
                        [--sector-identifier-uri <uri>] [--backchannel-logout-uri <uri>]
                        [--raw-serial-claim]
  myna-oidc clients list [--json]
  myna-oidc clients remove <client_id>

Storage (every subcommand):
  --endpoint <url>   a local DynamoDB (the local stack prints its endpoint); default: AWS
  --table <name>     table name (default ${DEFAULT_TABLE_NAME}); --region <region> for AWS

add prints a generated client secret once (confidential clients); --public makes a public client
(no secret, PKCE S256 required). Subjects are pairwise unless --subject-type public.
--raw-serial-claim lets the client receive the certificate serial number, which identifies a
person across services like a second MyNumber: enable it only where the law requires it.`;

/** Runs `clients <subcommand>`. */
export async function clientsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      endpoint: { type: 'string' },
      table: { type: 'string', default: DEFAULT_TABLE_NAME },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
      public: { type: 'boolean', default: false },
      'first-party': { type: 'boolean', default: false },
      'subject-type': { type: 'string', default: 'pairwise' },
      'sector-identifier-uri': { type: 'string' },
      'backchannel-logout-uri': { type: 'string' },
      'raw-serial-claim': { type: 'boolean', default: false },
    },
  });
  const [subcommand, clientId, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const registry = new ClientRegistry({
    client: createDynamoClient({ endpoint: values.endpoint, region: values.region }),
    tableName: values.table,
  });

  if (subcommand === 'list') {
    const clients = await registry.list();
    if (values.json) io.out(JSON.stringify(clients.map(withoutSecret), null, 2));
    else if (clients.length === 0) io.out('No clients registered.');
    else for (const client of clients) io.out(describe(client));
    return ExitCode.OK;
  }
  if (!clientId) throw new UsageError(`clients ${subcommand ?? ''} needs a <client_id>`);
  if (subcommand === 'remove') {
    if (await registry.remove(clientId)) {
      io.out(`Removed client ${clientId}.`);
      return ExitCode.OK;
    }
    io.err(`No client ${clientId}.`);
    return ExitCode.FAILED;
  }
  if (subcommand !== 'add') throw new UsageError(`unknown clients subcommand: ${subcommand}`);

  const redirectUris = values['redirect-uri'];
  if (redirectUris.length === 0) throw new UsageError('clients add needs at least one --redirect-uri');
  for (const uri of [...redirectUris, ...values['post-logout-redirect-uri']]) checkUri(uri);
  const subjectType = values['subject-type'];
  if (subjectType !== 'pairwise' && subjectType !== 'public') {
    throw new UsageError('--subject-type must be pairwise or public');
  }
  const secret = values.public ? undefined : randomBytes(32).toString('base64url');
  const metadata: ClientMetadata = {
    client_id: clientId,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: values['post-logout-redirect-uri'],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    subject_type: subjectType,
    token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
    ...(secret ? { client_secret: secret } : {}),
    ...(values['sector-identifier-uri'] ? { sector_identifier_uri: values['sector-identifier-uri'] } : {}),
    ...(values['backchannel-logout-uri'] ? { backchannel_logout_uri: values['backchannel-logout-uri'] } : {}),
    [FIRST_PARTY_FLAG]: values['first-party'],
    [RAW_SERIAL_FLAG]: values['raw-serial-claim'],
  };
  await registry.add(metadata);
  io.out(
    `Registered client ${clientId} (${secret ? 'confidential' : 'public, PKCE required'}, ${subjectType} sub).`,
  );
  if (secret) io.out(`client_secret: ${secret}\n(shown once: store it in the relying party's secret store)`);
  if (values['raw-serial-claim']) {
    io.err(
      'WARNING: this client will receive raw certificate serial numbers, which identify a person across services. The OP logs this at every start.',
    );
  }
  return ExitCode.OK;
}

function checkUri(uri: string): void {
  try {
    new URL(uri);
  } catch {
    throw new UsageError(`not an absolute URI: ${uri}`);
  }
}

function withoutSecret(client: ClientMetadata): ClientMetadata {
  const { client_secret: _secret, ...rest } = client;
  return rest;
}

function describe(client: ClientMetadata): string {
  const flags = [
    client.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    `${client.subject_type ?? 'pairwise'} sub`,
    client[FIRST_PARTY_FLAG] === true ? 'first-party' : undefined,
    client[RAW_SERIAL_FLAG] === true ? 'RAW SERIAL CLAIM' : undefined,
  ].filter(Boolean);
  return `${client.client_id}  [${flags.join(', ')}]  ${(client.redirect_uris ?? []).join(' ')}`;
}
