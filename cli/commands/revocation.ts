/**
 * `myna-oidc revocation import|status`: CRL ingest into the OP's table, and one certificate's
 * status as a login would see it (stored CRLs, or an OCSP responder with --ocsp).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';
import { loadTrustAnchors, type TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { privateRpHostsIn } from '../../functions/op/lambda-env.js';
import { CrlError } from '../../functions/revocation/crl.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import {
  InProcessLogoutTokenSigner,
  registeredClients,
} from '../../functions/revocation/notification/logout-token-signer.js';
import { NotifyJob } from '../../functions/revocation/notification/notify-job.js';
import { OcspSource } from '../../functions/revocation/ocsp-source.js';
import type { RevocationSource } from '../../functions/revocation/revocation-source.js';
import { StoredCrlSource } from '../../functions/revocation/stored-crl-source.js';
import { loadAwsSecrets, loadIdentitySecret } from '../../functions/secrets/aws-secrets.js';
import { loadLocalSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';
import { DEFAULT_TABLE_NAME } from './clients.js';

export const revocationUsage = `Usage:
  myna-oidc revocation import <crl file>... --trust <ca.pem>... [--grace <seconds>]
  myna-oidc revocation status <cert> --trust <ca.pem>... [--ocsp <url>]
  myna-oidc revocation notify --issuer <url>

Storage and secret (import, and status without --ocsp):
  --endpoint <url> --table <name> (default ${DEFAULT_TABLE_NAME}) --region <region>   like clients
  --data <dir> (default .data) | --secret-id <id>   where the certificate-key secret is (on AWS:
                                                    the stack output CertificateKeySecretId)

import   streams each DER CRL, verifies it against the --trust CAs (any generation, chosen by
         signature), refuses stale CRLs and CRL numbers that go backwards, and writes only what
         changed since the last import of that CA (and CRL partition). Prints per CRL: CA
         generation, entries, added, removed, crlNumber and timing. Exit 1 if any CRL is refused.
status   prints good, revoked (with reason) or unknown; exit 0 only for good.
notify   one run of the notification job (what the scheduled Lambda runs): certificates of known
         accounts newly listed by an import are marked revoked, their grants and sessions revoked
         and back-channel logout tokens (iss = --issuer) sent to their RPs; due retries are sent.
         It needs every secret (--data, or --secret-id of one secret holding every part): the
         logout-token signer runs in-process, with the checks of the signer Lambda.
         Prints the run's summary; exit 1 if a notification failed for good.`;

/** Runs `revocation <subcommand>`. */
export async function revocationCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      trust: { type: 'string', multiple: true, default: [] },
      ocsp: { type: 'string' },
      issuer: { type: 'string' },
      grace: { type: 'string', default: '0' },
      endpoint: { type: 'string' },
      table: { type: 'string', default: DEFAULT_TABLE_NAME },
      region: { type: 'string' },
      data: { type: 'string' },
      'secret-id': { type: 'string' },
    },
  });
  const [subcommand, ...files] = positionals;
  if (subcommand === 'notify') return notify(values, io);
  if (subcommand !== 'import' && subcommand !== 'status') {
    throw new UsageError(`unknown revocation subcommand: ${subcommand}`);
  }
  if (values.trust.length === 0) throw new UsageError(`revocation ${subcommand} needs --trust <ca.pem>`);
  if (files.length === 0 || (subcommand === 'status' && files.length !== 1)) {
    throw new UsageError(subcommand === 'import' ? 'give at least one CRL file' : 'give exactly one <cert>');
  }
  const grace = Number(values.grace);
  if (!Number.isInteger(grace) || grace < 0)
    throw new UsageError('--grace must be a whole number of seconds');
  const anchors = loadTrustAnchors(
    (await Promise.all(values.trust.map((file) => readFile(file)))).flatMap((bytes) =>
      decodePemOrDer(bytes, 'CERTIFICATE'),
    ),
  );
  if (subcommand === 'status' && values.ocsp !== undefined) {
    return status(files[0] as string, anchors, new OcspSource({ responderUrl: values.ocsp }), io);
  }
  const store = new CrlStore({
    client: createDynamoClient({ endpoint: values.endpoint, region: values.region }),
    tableName: values.table,
  });
  const secret = await loadCertificateKeySecret(values);
  if (subcommand === 'status') {
    return status(
      files[0] as string,
      anchors,
      new StoredCrlSource({ store, secret, graceSeconds: grace }),
      io,
    );
  }
  let code: number = ExitCode.OK;
  for (const file of files) {
    try {
      const s = await store.importFile(file, { anchors, secret, now: new Date(), graceSeconds: grace });
      io.out(
        `${file}: CA ${s.generation} (${s.caId.slice(0, 12)}) crlNumber ${s.crlNumber ?? '-'} entries ${s.entries} added ${s.added} removed ${s.removed} read ${(s.readMs / 1000).toFixed(2)} s write ${(s.writeMs / 1000).toFixed(2)} s`,
      );
    } catch (error) {
      if (!(error instanceof CrlError)) throw error;
      io.err(`${file}: ${error.code}: ${error.message}`);
      code = ExitCode.FAILED;
    }
  }
  return code;
}

interface StorageValues {
  readonly endpoint?: string;
  readonly table: string;
  readonly region?: string;
  readonly data?: string;
  readonly 'secret-id'?: string;
  readonly issuer?: string;
}

const secretsManager = (values: StorageValues) =>
  new SecretsManagerClient(values.region ? { region: values.region } : {});

/** The certificate-key secret: all CRL import and status need (--secret-id: that secret alone). */
export async function loadCertificateKeySecret(values: StorageValues): Promise<Uint8Array> {
  const secretId = values['secret-id'];
  return secretId === undefined
    ? (await loadLocalSecrets(values.data ?? '.data')).certificateKeySecret
    : loadIdentitySecret(secretId, 'certificateKeySecret', secretsManager(values));
}

/** Every secret the notification job uses (--secret-id: one secret holding every part). */
function loadSecrets(values: StorageValues): Promise<OpSecrets> {
  const secretId = values['secret-id'];
  return secretId === undefined
    ? loadLocalSecrets(values.data ?? '.data')
    : loadAwsSecrets({ signing: secretId }, secretsManager(values));
}

async function notify(values: StorageValues, io: CliIo): Promise<number> {
  if (!values.issuer) throw new UsageError('revocation notify needs --issuer <url> (the OP issuer)');
  const client = createDynamoClient({ endpoint: values.endpoint, region: values.region });
  const secrets = await loadSecrets(values);
  const job = new NotifyJob({
    client,
    tableName: values.table,
    issuer: values.issuer,
    secrets,
    // The operator holds the whole secret: the signer runs in-process, with the same checks.
    signer: new InProcessLogoutTokenSigner({
      issuer: values.issuer,
      secrets,
      findClient: registeredClients(new ClientRegistry({ client, tableName: values.table })),
    }),
    privateRpHosts: privateRpHostsIn(process.env),
    logger: { info: () => undefined, warn: (event, fields) => io.err(`${event} ${JSON.stringify(fields)}`) },
  });
  const s = await job.run();
  io.out(
    `feed chunks ${s.feedChunks} keys checked ${s.keysChecked} certificates revoked ${s.certificatesRevoked} notifications queued ${s.notificationsQueued} delivered ${s.delivered} retrying ${s.retrying} failed ${s.failed}${s.stoppedEarly ? ' (stopped early)' : ''}`,
  );
  return s.failed > 0 ? ExitCode.FAILED : ExitCode.OK;
}

async function status(
  file: string,
  anchors: TrustAnchors,
  source: RevocationSource,
  io: CliIo,
): Promise<number> {
  const objects = decodePemOrDer(await readFile(file), 'CERTIFICATE');
  if (objects.length !== 1) throw new UsageError(`${file} holds ${objects.length} certificates; give one`);
  const certificate = parseCertificate(objects[0] as Uint8Array);
  const issuer = anchors.findSigner(certificate);
  if (!issuer) {
    io.out('unknown: the certificate was not issued by a --trust CA');
    return ExitCode.FAILED;
  }
  const result = await source.status({ certificate, issuer, now: new Date() });
  if (result.status === 'good') io.out('good');
  else if (result.status === 'revoked')
    io.out(`revoked: ${result.reason} at ${result.revokedAt.toISOString()}`);
  else io.out(`unknown: ${result.detail}`);
  return result.status === 'good' ? ExitCode.OK : ExitCode.FAILED;
}
