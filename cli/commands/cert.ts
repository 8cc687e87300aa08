/**
 * `myna-oidc cert inspect|verify`: what an operator runs when a login fails. `inspect` describes a
 * certificate (via @peculiar/x509); `verify` runs the login verifier's certificate checks at a
 * chosen time against chosen trust anchors (and CRLs), exiting non-zero with the error code.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as x509 from '../../dev-pki/x509.js';
import { classifyPolicies } from '../../functions/jpki/certificate.js';
import { VerificationError } from '../../functions/jpki/errors.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';
import { loadTrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { verifyCertificate } from '../../functions/jpki/verify-login.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import type { RevocationStatus } from '../../functions/revocation/revocation-source.js';
import { type CliIo, ExitCode, UsageError } from '../io.js';

export const certUsage = `Usage:
  myna-oidc cert inspect <file> [--json]
  myna-oidc cert verify <file> --trust <ca.pem>... [--crl <file>]... [--at <ISO time>] [--skew <seconds>] [--json]

inspect  prints kind, serial, subject, issuer, validity, policies, CRL distribution point and OCSP URL.
verify   checks chain (by signature), validity at --at (default now), key usage and the user-auth
         policy; with --crl, also revocation. Exit 0 when valid, 1 with the error code when not.
Files may be DER or PEM.`;

/** Runs `cert <subcommand>`. */
export async function certCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      trust: { type: 'string', multiple: true, default: [] },
      crl: { type: 'string', multiple: true, default: [] },
      at: { type: 'string' },
      skew: { type: 'string', default: '0' },
    },
  });
  const [subcommand, file, ...rest] = positionals;
  if (subcommand !== 'inspect' && subcommand !== 'verify')
    throw new UsageError(`unknown cert subcommand: ${subcommand}`);
  if (!file || rest.length > 0) throw new UsageError('cert needs exactly one <file>');
  const der = await readOne(file);
  if (subcommand === 'inspect') return inspect(der, values.json, io);
  if (values.trust.length === 0) throw new UsageError('cert verify needs at least one --trust <ca.pem>');
  const now = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(now.getTime())) throw new UsageError(`--at is not an ISO time: ${values.at}`);
  const skew = Number(values.skew);
  if (!Number.isInteger(skew) || skew < 0) throw new UsageError('--skew must be a whole number of seconds');
  return verify(der, { trust: values.trust, crls: values.crl, now, skew, json: values.json }, io);
}

async function readOne(file: string): Promise<Uint8Array> {
  const objects = decodePemOrDer(await readFile(file), 'CERTIFICATE');
  if (objects.length !== 1) throw new UsageError(`${file} holds ${objects.length} certificates; give one`);
  return objects[0] as Uint8Array;
}

/** A readable description of a certificate. */
export function describeCertificate(der: Uint8Array) {
  const certificate = new x509.X509Certificate(der);
  const policies = certificate.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
  const distributionPoints =
    certificate.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? [];
  const key = certificate.publicKey.algorithm as { name: string; modulusLength?: number };
  const signature = certificate.signatureAlgorithm as unknown as { name: string; hash: { name: string } };
  return {
    kind: classifyPolicies(policies),
    serialNumber: certificate.serialNumber,
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    key: key.modulusLength ? `${key.name} ${key.modulusLength} bits` : key.name,
    signatureAlgorithm: `${signature.name} ${signature.hash.name}`,
    policies,
    crlDistributionPoints: distributionPoints.flatMap((point) =>
      (point.distributionPoint?.fullName ?? []).map((name) =>
        name.directoryName
          ? new x509.Name(name.directoryName).toString()
          : (name.uniformResourceIdentifier ?? '?'),
      ),
    ),
    ocsp: (certificate.getExtension(x509.AuthorityInfoAccessExtension)?.ocsp ?? []).map((name) => name.value),
  };
}

function inspect(der: Uint8Array, json: boolean, io: CliIo): number {
  let description: ReturnType<typeof describeCertificate>;
  try {
    description = describeCertificate(der);
  } catch (error) {
    io.err(`not a readable X.509 certificate: ${(error as Error).message}`);
    return ExitCode.FAILED;
  }
  if (json) {
    io.out(JSON.stringify(description, null, 2));
  } else {
    const rows: [string, string][] = [
      ['kind', description.kind],
      ['serial', description.serialNumber],
      ['subject', description.subject],
      ['issuer', description.issuer],
      ['valid from', description.notBefore],
      ['valid until', description.notAfter],
      ['key', description.key],
      ['signature', description.signatureAlgorithm],
      ['policies', description.policies.join(', ') || '(none)'],
      ['CRL DP', description.crlDistributionPoints.join('; ') || '(none)'],
      ['OCSP', description.ocsp.join(', ') || '(none)'],
    ];
    for (const [label, value] of rows) io.out(`${label.padEnd(12)} ${value}`);
  }
  return ExitCode.OK;
}

interface VerifyOptions {
  readonly trust: readonly string[];
  readonly crls: readonly string[];
  readonly now: Date;
  readonly skew: number;
  readonly json: boolean;
}

async function verify(der: Uint8Array, options: VerifyOptions, io: CliIo): Promise<number> {
  const anchorDers = (await Promise.all(options.trust.map((file) => readFile(file)))).flatMap((bytes) =>
    decodePemOrDer(bytes, 'CERTIFICATE'),
  );
  const trustAnchors = loadTrustAnchors(anchorDers);
  try {
    const verified = verifyCertificate(der, {
      trustAnchors,
      now: options.now,
      clockSkewSeconds: options.skew,
    });
    let revocation: RevocationStatus | undefined;
    if (options.crls.length > 0) {
      const source = new MemoryCrlSource(trustAnchors);
      for (const file of options.crls)
        for (const crl of decodePemOrDer(await readFile(file), 'X509 CRL')) await source.load(crl);
      revocation = await source.status({
        certificate: verified.certificate,
        issuer: verified.issuer,
        now: options.now,
      });
      if (revocation.status === 'revoked')
        throw new VerificationError('REVOKED', `reason: ${revocation.reason}`);
      if (revocation.status === 'unknown')
        throw new VerificationError('REVOCATION_UNKNOWN', revocation.detail);
    }
    const result = {
      valid: true,
      kind: verified.kind,
      at: options.now.toISOString(),
      issuer: { generation: verified.issuer.generation, id: verified.issuer.id },
      revocation: revocation?.status ?? 'not checked',
    };
    io.out(
      options.json
        ? JSON.stringify(result, null, 2)
        : `valid: ${result.kind} certificate from CA generation ${result.issuer.generation} at ${result.at} (revocation: ${result.revocation})`,
    );
    return ExitCode.OK;
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    io.out(
      options.json
        ? JSON.stringify({ valid: false, code: error.code, message: error.message }, null, 2)
        : `invalid: ${error.code}: ${error.message}`,
    );
    return ExitCode.FAILED;
  }
}
