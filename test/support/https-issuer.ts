/**
 * TLS for an https issuer in tests: a throw-away test CA and a server certificate it issues for
 * the given host names and IP addresses, made with openssl (EC P-256, valid for a day) in a
 * temporary folder, nothing downloaded. Browsers are told to trust it by the test (Chromium: the
 * server key's SPKI hash; Firefox: the CA in the profile's NSS database; WebKit: the server
 * certificate for the host), Node clients by passing `caCert` as `ca`.
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Who the server certificate is for. */
export interface TestTlsSubject {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** A test CA and the server certificate (PEM) it issued, also as files for the tools that want files. */
export interface TestTls {
  readonly caCert: Buffer;
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly caCertFile: string;
  readonly certFile: string;
  /** base64 SHA-256 of the server key's SubjectPublicKeyInfo (Chromium's `--ignore-certificate-errors-spki-list`). */
  readonly spkiSha256: string;
  /** Deletes the folder holding the keys. */
  remove(): Promise<void>;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes a test CA and a server certificate for `subject` with openssl; throws when openssl is missing. */
export async function issueTestTls(subject: TestTlsSubject): Promise<TestTls> {
  const names = [
    ...(subject.dnsNames ?? []).map((name) => `DNS:${name}`),
    ...(subject.ipAddresses ?? []).map((address) => `IP:${address}`),
  ];
  if (names.length === 0) throw new TypeError('issueTestTls needs at least one host name or IP address');
  const dir = await mkdtemp(join(tmpdir(), 'myna-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) =>
    run('openssl', args).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === 'ENOENT'
          ? 'openssl is missing: apt-get install openssl'
          : `openssl failed: ${error.message}`,
      );
    });
  try {
    await openssl([
      ...['req', '-x509', ...EC_KEY, '-days', '1', '-subj', '/CN=myna-oidc test CA'],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ...['-keyout', file('ca.key'), '-out', file('ca.crt')],
    ]);
    await openssl([
      ...['req', ...EC_KEY, '-subj', '/CN=myna-oidc test server'],
      ...['-keyout', file('server.key'), '-out', file('server.csr')],
    ]);
    await writeFile(
      file('server.ext'),
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${names.join(',')}`,
        '',
      ].join('\n'),
    );
    await openssl([
      ...['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')],
      ...['-CAcreateserial', '-days', '1', '-extfile', file('server.ext'), '-out', file('server.crt')],
    ]);
    const key = await readFile(file('server.key'));
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    return {
      caCert: await readFile(file('ca.crt')),
      key,
      cert: await readFile(file('server.crt')),
      caCertFile: file('ca.crt'),
      certFile: file('server.crt'),
      spkiSha256: createHash('sha256').update(spki).digest('base64'),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
