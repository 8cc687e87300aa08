/**
 * `myna-oidc accounts export|erase <account id> | --certificate <cert>`: for requests that reach
 * the operator by other channels, the same account services the account page uses
 * (functions/accounts/account-services.ts): the export document (everything the OP holds about
 * one account, README "Privacy"), and the erasure (back-channel logouts queued to every service,
 * then the account, its certificate pointers, grants with their tokens and codes, sessions,
 * release history, account-index pointers, revocation audit records and its traces on the logout
 * queue). Account ids are the `accountId` of the OP's records (never a serial); an RP's `sub` is
 * not one. With `--certificate` the account is the one holding that certificate (the person
 * brings it, e.g. exported by the helper), found through its certificate key, which needs the
 * certificate-key secret. Both need the pairwise secret: the `sub` each service holds (its
 * fingerprint in the export, the logout tokens of the erasure).
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AccountRecords } from '../../functions/accounts/account-records.js';
import { AccountServices } from '../../functions/accounts/account-services.js';
import { DEFAULT_TABLE_NAME } from '../../functions/defaults.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';
import { loadIdentitySecret } from '../../functions/secrets/aws-secrets.js';
import { LOCAL_SECRETS_FILE, loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { certificateKey } from '../../functions/subject/certificate-key.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';
import { loadCertificateKeySecret } from './revocation.js';

export const accountsUsage = `Usage:
  myna-oidc accounts export <account id> | --certificate <cert>   everything the OP holds, as JSON
  myna-oidc accounts erase <account id> | --certificate <cert>    erases it and all that names it
  (an account id that starts with '-' goes after '--': myna-oidc accounts erase -- <account id>)

  --certificate <cert>   the account holding this user-authentication certificate (PEM or DER)
                         instead of an account id (needs the certificate-key secret)

Secrets (the pairwise secret always: the sub each service holds):
  --data <dir>           a local stack's secrets (default .data)
  --pairwise-secret-id <id>   on AWS: the stack output PairwiseSecretId
  --secret-id <id>       on AWS, with --certificate: the stack output CertificateKeySecretId

Storage:
  --endpoint <url>   a local DynamoDB (npm start prints its endpoint); default: the AWS table
  --table <name>     table name (default ${DEFAULT_TABLE_NAME}); --region <region> for AWS

export   prints the export document (format myna-oidc/account-export, version 1; README
         "Privacy"): the account and its certificates (certificate key, issuing CA key and
         generation, issue day, first and last use, revocation), every service with what it
         received and the fingerprint of its pseudonym, the release history, live grants and
         sessions, the revocation audit records, the identity evidence records kept for services
         (record id, created, kept until; never their content) and the queued back-channel
         logouts naming it. Exit 1 when the OP holds nothing about it.
erase    queues a back-channel logout to every service that registered one (the scheduled
         notification job or \`myna-oidc revocation notify\` delivers them), then revokes the
         grants (with their tokens and codes) and sessions and deletes the release history,
         account-index pointers, audit records, certificate pointers and the account. A
         retained identity evidence record a service must keep stays until its own expiry,
         encrypted, its link to the account deleted. Prints what it removed; running it again is
         harmless. Exit 1 when there was nothing to erase.`;

/**
 * The command line of `accounts`. Account ids are base64url, so one may start with `-`: it then goes
 * after `--` (`accounts erase -- -Xy…`), and an unknown option says so.
 */
function parseAccountsArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        endpoint: { type: 'string' },
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        region: { type: 'string' },
        certificate: { type: 'string' },
        data: { type: 'string' },
        'secret-id': { type: 'string' },
        'pairwise-secret-id': { type: 'string' },
      },
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw error;
    throw new UsageError(
      `${(error as Error).message.split('\n')[0]} (an account id that starts with '-' goes after '--': accounts erase -- <account id>)`,
    );
  }
}

/** Runs `accounts <subcommand>`. */
export async function accountsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseAccountsArgs(args);
  const [subcommand, ...ids] = positionals;
  if (subcommand !== 'export' && subcommand !== 'erase') {
    throw new UsageError(
      subcommand ? `unknown accounts subcommand: ${subcommand}` : 'give a subcommand: export or erase',
    );
  }
  if (ids.length + (values.certificate === undefined ? 0 : 1) !== 1) {
    throw new UsageError(`accounts ${subcommand} needs exactly one <account id> or --certificate <cert>`);
  }
  const client = createDynamoClient({ endpoint: values.endpoint, region: values.region });
  try {
    const tableName = values.table;
    const accountId =
      values.certificate === undefined
        ? (ids[0] as string)
        : await accountOfCertificate(new AccountRecords({ client, tableName }), values.certificate, values);
    if (accountId === undefined) {
      io.err('myna-oidc accounts: ACCOUNT_NOT_FOUND: no account holds this certificate');
      return ExitCode.FAILED;
    }
    const registry = new ClientRegistry({ client, tableName });
    const services = new AccountServices({
      client,
      tableName,
      pairwiseSecret: await loadPairwiseSecret(values),
      findClient: (clientId) => registry.get(clientId),
      // No signing key here: the notification job delivers what is queued.
      logoutQueue: new LogoutQueue({ client, tableName }),
    });
    const notFound = () => {
      io.err(`myna-oidc accounts: ACCOUNT_NOT_FOUND: the OP holds no account ${accountId}`);
      return ExitCode.FAILED;
    };
    if (subcommand === 'export') {
      const exported = await services.exportAccount(accountId);
      const empty =
        !exported.account &&
        exported.grants.length +
          exported.sessions.length +
          exported.releaseHistory.length +
          exported.retainedEvidence.length ===
          0;
      if (empty) return notFound();
      io.out(JSON.stringify(exported, null, 2));
      return ExitCode.OK;
    }
    const erased = await services.eraseAccount(accountId);
    const nothing =
      !erased.found &&
      erased.grants +
        erased.sessions +
        erased.accountRefs +
        erased.revocationAudits +
        erased.releases +
        erased.retainedEvidence ===
        0;
    if (nothing) return notFound();
    io.out(
      `erased account ${accountId}: certificates ${erased.certificates} grants ${erased.grants} sessions ${erased.sessions} release history entries ${erased.releases} account-index pointers ${erased.accountRefs} revocation audit records ${erased.revocationAudits} back-channel logouts queued ${erased.logoutsQueued} retained identity evidence records unlinked ${erased.retainedEvidence}`,
    );
    return ExitCode.OK;
  } finally {
    client.destroy();
  }
}

/** The pairwise secret: `--pairwise-secret-id` on AWS, else the local stack's (`--data`). */
async function loadPairwiseSecret(values: {
  data?: string;
  region?: string;
  'pairwise-secret-id'?: string;
}): Promise<Uint8Array> {
  const secretId = values['pairwise-secret-id'];
  if (secretId === undefined) {
    const dataDir = values.data ?? '.data';
    // Never a fresh secret: every sub computed with it would be wrong.
    await access(join(dataDir, LOCAL_SECRETS_FILE)).catch(() => {
      throw new UsageError(
        `no ${LOCAL_SECRETS_FILE} in ${dataDir}: give --data <dir> of the local stack, or --pairwise-secret-id <id> on AWS`,
      );
    });
    return (await loadLocalSecrets(dataDir)).pairwiseSecret;
  }
  return loadIdentitySecret(
    secretId,
    'pairwiseSecret',
    new SecretsManagerClient(values.region ? { region: values.region } : {}),
  );
}

/** The id of the account holding the certificate in `file`, if any. */
async function accountOfCertificate(
  records: AccountRecords,
  file: string,
  values: { table: string; data?: string; 'secret-id'?: string; region?: string },
): Promise<string | undefined> {
  const objects = decodePemOrDer(await readFile(file), 'CERTIFICATE');
  if (objects.length !== 1) throw new UsageError(`${file} holds ${objects.length} certificates; give one`);
  const certificate = parseCertificate(objects[0] as Uint8Array);
  const secret = await loadCertificateKeySecret(values);
  return (await records.pointer(certificateKey(secret, certificate.issuer, certificate.serialNumber)))
    ?.accountId;
}
