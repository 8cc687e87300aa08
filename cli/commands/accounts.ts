/**
 * `myna-oidc accounts export|erase <account id> | --certificate <cert>`: what the OP holds about
 * one person's account, as JSON, and its erasure (the account, its certificate pointers, grants
 * with their tokens and codes, sessions, account-index pointers and revocation audit records).
 * Account ids are the `accountId` of the OP's records (a keyed hash, never a serial); an RP's
 * `sub` is not one. With `--certificate` the account is the one holding that certificate (the
 * person brings it, e.g. exported by the helper), found through its certificate key, which needs
 * the certificate-key secret.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AccountRecords } from '../../functions/accounts/account-records.js';
import { DEFAULT_TABLE_NAME } from '../../functions/defaults.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { certificateKey } from '../../functions/subject/certificate-key.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';
import { loadCertificateKeySecret } from './revocation.js';

export const accountsUsage = `Usage:
  myna-oidc accounts export <account id> | --certificate <cert>   everything the OP holds, as JSON
  myna-oidc accounts erase <account id> | --certificate <cert>    erases it and all that names it
  (an account id that starts with '-' goes after '--': myna-oidc accounts erase -- <account id>)

  --certificate <cert>   the account holding this user-authentication certificate (PEM or DER)
                         instead of an account id; needs the certificate-key secret:
  --data <dir> (default .data) | --secret-id <id>   (on AWS: the stack output CertificateKeySecretId)

Storage:
  --endpoint <url>   a local DynamoDB (npm start prints its endpoint); default: the AWS table
  --table <name>     table name (default ${DEFAULT_TABLE_NAME}); --region <region> for AWS

export   prints the account (created, expiry under the retention rule, each certificate's key,
         issuing CA key and generation, first and last login, revocation), its live grants
         (client ids) and sessions, and the revocation audit records of its certificates.
         Exit 1 when the OP holds nothing about the account.
erase    revokes the grants (with their tokens and codes) and sessions, and deletes the
         account-index pointers, audit records, certificate pointers and the account. Prints
         what it removed; running it again is harmless. Exit 1 when there was nothing to erase.`;

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
    const records = new AccountRecords({ client, tableName: values.table });
    const accountId =
      values.certificate === undefined
        ? (ids[0] as string)
        : await accountOfCertificate(records, values.certificate, values);
    if (accountId === undefined) {
      io.err('myna-oidc accounts: ACCOUNT_NOT_FOUND: no account holds this certificate');
      return ExitCode.FAILED;
    }
    if (subcommand === 'export') {
      const holdings = await records.holdings(accountId);
      if (!holdings.account && holdings.grants.length === 0 && holdings.sessions.length === 0) {
        io.err(`myna-oidc accounts: ACCOUNT_NOT_FOUND: the OP holds no account ${accountId}`);
        return ExitCode.FAILED;
      }
      io.out(JSON.stringify(holdings, null, 2));
      return ExitCode.OK;
    }
    const erased = await records.erase(accountId);
    const nothing =
      !erased.found && erased.grants + erased.sessions + erased.accountRefs + erased.revocationAudits === 0;
    if (nothing) {
      io.err(`myna-oidc accounts: ACCOUNT_NOT_FOUND: the OP holds no account ${accountId}`);
      return ExitCode.FAILED;
    }
    io.out(
      `erased account ${accountId}: certificates ${erased.certificates} grants ${erased.grants} sessions ${erased.sessions} account-index pointers ${erased.accountRefs} revocation audit records ${erased.revocationAudits}`,
    );
    return ExitCode.OK;
  } finally {
    client.destroy();
  }
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
