/**
 * The Lambda handler driven with API Gateway HTTP API v2 events: every request of a full login —
 * discovery, authorization redirect with cookies, login page, card login, token — goes through it.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import * as client from 'openid-client';
import { OCSPRequest } from 'pkijs';
import { startFakeSecretsManager } from '../../bench/lambda-coldstart.js';
import { type DevIdentity, type DevPki, devCertificateLinks } from '../../dev-pki/hierarchy.js';
import { issueCrl } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import { certificateLinkFileText } from '../../functions/jpki/certificate-links.js';
import { encodePem } from '../../functions/jpki/pem.js';
import type { TrustAnchor } from '../../functions/jpki/trust-anchors.js';
import { opLambdaSplitBuildOptions, SPLIT_ENTRY_FILE } from '../../functions/op/bundle-options.js';
import { type OpConfig, resolveOpConfig } from '../../functions/op/config.js';
import {
  createLambdaHandler,
  lambdaConfig,
  handler as lambdaEntryPoint,
  listingClientsAfter,
} from '../../functions/op/lambda.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { OID_OCSP_NONCE } from '../../protocol/oids.js';
import { madeResponse } from '../revocation/ocsp-fixture.js';
import { type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import {
  relyingParty,
  rpLogin,
  TestBrowser,
  type Transport,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const ISSUER = 'https://login.example.jp';
const newTable = useLocalTables();
let card: VirtualCardSigner;
let handler: Awaited<ReturnType<typeof createLambdaHandler>>;
const events: { rawPath: string; cookies?: string[] }[] = [];

interface V2Result {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** The API Gateway v2 event of one request. */
function lambdaEvent(url: string | URL, init: RequestInit) {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host, 'x-forwarded-proto': 'https' };
  let cookies: string[] | undefined;
  new Headers(init.headers).forEach((value, name) => {
    if (name === 'cookie') cookies = value.split('; ');
    else headers[name] = value;
  });
  const body = typeof init.body === 'string' ? init.body : init.body ? String(init.body) : undefined;
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: target.host,
      domainPrefix: 'login',
      http: {
        method: init.method ?? 'GET',
        path: target.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'test',
      },
      requestId: `req-${randomUUID()}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
  };
  return event;
}

/** A fetch-like transport that turns each request into an API Gateway v2 event for `handler`. */
const lambdaTransport: Transport = async (url, init) => {
  const event = lambdaEvent(url, init);
  events.push(event);
  const result = (await handler(event, {})) as V2Result;
  const responseHeaders = new Headers(result.headers);
  for (const cookie of result.cookies ?? []) responseHeaders.append('set-cookie', cookie);
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : result.body;
  const empty = [204, 304].includes(result.statusCode) || text === undefined || text === '';
  return new Response(empty ? null : text, { status: result.statusCode, headers: responseHeaders });
};

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  handler = await createLambdaHandler(await testOpConfig(ISSUER, { table: await newTable() }));
});
afterAll(() => card?.close());

const A = TEST_CLIENTS.firstParty;

/** The first-party test client, talking to the OP only through Lambda events. */
function firstPartyRp() {
  return relyingParty({
    issuer: ISSUER,
    clientId: A.client_id,
    clientSecret: A.client_secret,
    transport: lambdaTransport,
  });
}

/** An authorization request of the first-party client (code flow, PKCE S256). */
async function firstPartyAuthorizationUrl(): Promise<URL> {
  return client.buildAuthorizationUrl(await firstPartyRp(), {
    redirect_uri: A.redirect_uris[0] as string,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
}

describe('Lambda handler (API Gateway HTTP API v2)', () => {
  it('answers discovery with the configured issuer', async () => {
    const response = await lambdaTransport(`${ISSUER}/.well-known/openid-configuration`, {});
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as { issuer: string; token_endpoint: string };
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/token`);
  });

  it('answers before the start-up listing of clients does; a failed listing is logged, not fatal', async () => {
    const logger = memoryLogger();
    const config = await testOpConfig(ISSUER, { table: await newTable(), logger });
    let failListing: (error: Error) => void = () => undefined;
    const listing = new Promise<never>((_, reject) => {
      failListing = reject;
    });
    const started = await createLambdaHandler({
      ...config,
      storage: { ...config.storage, clients: { list: () => listing } },
    });
    const answer = (await started(
      lambdaEvent(`${ISSUER}/.well-known/openid-configuration`, {}),
      {},
    )) as V2Result;
    expect(answer.statusCode).toBe(200);
    failListing(new Error('throttled'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', event: 'client.list_failed' }),
    );
  });

  it('redirects an authorization request to the interaction and sets its cookies', async () => {
    const url = await firstPartyAuthorizationUrl();
    const response = await lambdaTransport(url.href, {});
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(
      /^\/interaction\/[A-Za-z0-9_-]+(\?ticket=[A-Za-z0-9_.-]+)?$/,
    );
    const cookies = response.headers.getSetCookie();
    // An https issuer's cookies are prefixed: browsers take them only with Secure from this host.
    expect(cookies.some((cookie) => cookie.startsWith('__Secure-interaction='))).toBe(true);
    expect(cookies.some((cookie) => cookie.startsWith('__Secure-interaction_resume='))).toBe(true);
    expect(cookies.every((cookie) => /;\s*secure/i.test(cookie) && /samesite=lax/i.test(cookie))).toBe(true);
    expect(cookies.every((cookie) => !/;\s*domain=/i.test(cookie))).toBe(true);
    expect(response.headers.get('strict-transport-security')).toBe('max-age=63072000');
  });

  it('a forged Host or X-Forwarded-Host changes neither discovery nor the redirects', async () => {
    const forged = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' };
    const discovery = await lambdaTransport(`${ISSUER}/.well-known/openid-configuration`, {
      headers: forged,
    });
    const text = await discovery.text();
    expect(text).not.toContain('evil.example');
    expect(JSON.parse(text)).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
      end_session_endpoint: `${ISSUER}/session/end`,
    });
    const url = await firstPartyAuthorizationUrl();
    const redirect = await lambdaTransport(url.href, { headers: forged });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toMatch(
      /^\/interaction\/[A-Za-z0-9_-]+(\?ticket=[A-Za-z0-9_.-]+)?$/,
    );
    // X-Forwarded-Proto: http does not turn the cookies' Secure flag off either.
    expect(redirect.headers.getSetCookie().every((cookie) => /;\s*secure/i.test(cookie))).toBe(true);
  });

  it('runs a whole login through events, cookies in event.cookies, and redeems the code at /token', async () => {
    const rp = await firstPartyRp();
    const { tokens } = await rpLogin({
      rp,
      browser: new TestBrowser(lambdaTransport),
      card,
      redirectUri: A.redirect_uris[0] as string,
    });
    expect(tokens.claims()?.iss).toBe(ISSUER);
    expect(tokens.claims()?.amr).toEqual(['sc', 'pin', 'hwk']);
    expect(events.some((event) => event.rawPath === '/token')).toBe(true);
    expect(events.some((event) => event.rawPath.endsWith('/login') && (event.cookies?.length ?? 0) > 0)).toBe(
      true,
    );
  });
});

describe('the Lambda configuration from its environment (lambdaConfig, one cold start)', () => {
  const SECRET_ID = 'myna-oidc/op';
  const awsEnv: Record<string, string | undefined> = {};
  let secretsManager: Awaited<ReturnType<typeof startFakeSecretsManager>>;
  let taskRoot: string;
  let table: TestTable;
  let secrets: OpSecrets;
  let pki: DevPki;
  let revoked: DevIdentity;

  /** The environment the stack gives the OP Lambda, with `extra` on top. */
  const lambdaEnv = (extra: Record<string, string> = {}) => ({
    ...process.env,
    OP_ISSUER: ISSUER,
    OP_TABLE_NAME: table.tableName,
    OP_SECRET_ID: SECRET_ID,
    OP_TRUST_ANCHORS_FILE: 'trust/jpki.pem',
    LAMBDA_TASK_ROOT: taskRoot,
    ...extra,
  });
  /** The revocation status a login with `identity`'s certificate would get. */
  const statusOf = async (config: OpConfig, identity: DevIdentity) => {
    const certificate = parseCertificate(identity.userAuth.der);
    return config.revocation.status({
      certificate,
      issuer: userAuthAnchors(pki).findSigner(certificate) as never,
      now: new Date(),
    });
  };

  beforeAll(async () => {
    table = await newTable();
    secrets = await generateSecrets();
    pki = await devPki();
    revoked = pki.identities[2] as DevIdentity;
    // It checks the signature of every request with the credentials below.
    secretsManager = await startFakeSecretsManager(SECRET_ID, secrets, {
      accessKeyId: 'local',
      secretAccessKey: 'local',
    });
    // The DynamoDB client and the secret's request lambda.ts makes find the local services through
    // the SDK's own endpoint variables, as they would find real ones through the Lambda's role and region.
    const endpoints = {
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    for (const [name, value] of Object.entries(endpoints)) {
      awsEnv[name] = process.env[name];
      process.env[name] = value;
    }
    taskRoot = await mkdtemp(join(tmpdir(), 'myna-lambda-root-'));
    await mkdir(join(taskRoot, 'trust'));
    await writeFile(
      join(taskRoot, 'trust', 'jpki.pem'),
      pki.userAuthCas.map((ca) => encodePem(ca.der, 'CERTIFICATE')).join(''),
    );
    const now = new Date();
    await writeFile(
      join(taskRoot, 'trust', 'revoked.crl'),
      await issueCrl({
        ca: revoked.userAuthCa,
        thisUpdate: new Date(now.getTime() - 60_000),
        nextUpdate: new Date(now.getTime() + 86_400_000),
        crlNumber: 1,
        entries: [
          { serialHex: revoked.userAuth.serialHex, revokedAt: now, reason: X509CrlReason.superseded },
        ],
      }),
    );
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(awsEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await secretsManager?.close();
    await rm(taskRoot, { recursive: true, force: true });
  });

  it('OP_CRL_FILES: CRLs deployed with the code, relative to LAMBDA_TASK_ROOT, answer in memory', async () => {
    const config = await lambdaConfig(lambdaEnv({ OP_CRL_FILES: 'trust/revoked.crl' }));
    await expect(statusOf(config, revoked)).resolves.toMatchObject({
      status: 'revoked',
      reason: 'superseded',
    });
    // The table holds no CRL: without OP_CRL_FILES the same login has no current CRL (fail closed).
    const stored = await lambdaConfig(lambdaEnv());
    await expect(statusOf(stored, revoked)).resolves.toMatchObject({ status: 'unknown' });
    await expect(lambdaConfig(lambdaEnv({ OP_CRL_FILES: 'trust/missing.crl' }))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('crl without OP_CRL_FILES reads the CRLs imported into the table; none answers good', async () => {
    await new CrlStore(table).importFile(join(taskRoot, 'trust', 'revoked.crl'), {
      anchors: userAuthAnchors(pki),
      secret: secrets.certificateKeySecret,
      now: new Date(),
    });
    const config = await lambdaConfig(lambdaEnv({ OP_PRIVATE_RP_HOSTS: 'rp.internal.example' }));
    await expect(statusOf(config, revoked)).resolves.toMatchObject({
      status: 'revoked',
      reason: 'superseded',
    });
    expect(config).toMatchObject({ issuer: ISSUER, privateRpHosts: ['rp.internal.example'] });
    const none = await lambdaConfig(lambdaEnv({ OP_REVOCATION_POLICY: 'none' }));
    await expect(statusOf(none, revoked)).resolves.toEqual({ status: 'good' });
  });

  it("ocsp: the responder gets the OP's clock skew (OP_CLOCK_SKEW_SECONDS), not a skew of its own", async () => {
    const certificate = parseCertificate(revoked.userAuth.der);
    const issuer = userAuthAnchors(pki).findSigner(certificate) as TrustAnchor;
    // A responder whose clock runs 90 s ahead: its thisUpdate is 90 s in the OP's future.
    const responder = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = Buffer.concat(chunks);
        const ocspRequest = OCSPRequest.fromBER(
          body.buffer.slice(body.byteOffset, body.byteOffset + body.length),
        );
        const nonce = ocspRequest.tbsRequest.requestExtensions?.find((ext) => ext.extnID === OID_OCSP_NONCE);
        const der = await madeResponse(certificate, issuer, {
          signer: revoked.userAuthCa,
          nonceValue: Buffer.from(nonce?.extnValue.valueBlock.valueHexView ?? []),
          thisUpdate: new Date(Date.now() + 90_000),
        });
        response.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der);
      });
    });
    await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
    try {
      const ocsp = (skew: string) =>
        lambdaConfig(
          lambdaEnv({
            OP_REVOCATION_POLICY: 'ocsp',
            OP_OCSP_URL: `http://127.0.0.1:${(responder.address() as AddressInfo).port}/`,
            OP_CLOCK_SKEW_SECONDS: skew,
          }),
        );
      await expect(statusOf(await ocsp('120'), revoked)).resolves.toEqual({ status: 'good' });
      await expect(statusOf(await ocsp('30'), revoked)).resolves.toMatchObject({ status: 'unknown' });
    } finally {
      await new Promise<void>((resolve) => responder.close(() => resolve()));
    }
  });

  it('a failed cold start is retried on the next invocation', async () => {
    const discovery = () => lambdaEvent(`${ISSUER}/.well-known/openid-configuration`, {});
    const saved = { ...process.env };
    try {
      Object.assign(process.env, lambdaEnv({ OP_SECRET_ID: 'myna-oidc/not-there' }));
      await expect(lambdaEntryPoint(discovery(), {})).rejects.toMatchObject({
        code: 'SECRETS_UNAVAILABLE',
      });
      Object.assign(process.env, lambdaEnv());
      const answer = (await lambdaEntryPoint(discovery(), {})) as V2Result;
      expect(answer.statusCode).toBe(200);
      expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ issuer: ISSUER });
      // Warm: the next invocation reuses the started OP.
      expect(((await lambdaEntryPoint(discovery(), {})) as V2Result).statusCode).toBe(200);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it('identity: signing CAs need the deployed link file (OP_CERTIFICATE_LINKS_FILE) or the opt-in', async () => {
    await writeFile(join(taskRoot, 'trust', 'signing.pem'), encodePem(pki.signingCa.der, 'CERTIFICATE'));
    await writeFile(
      join(taskRoot, 'trust', 'links.json'),
      certificateLinkFileText(devCertificateLinks(pki.identities)),
    );
    const signing = { OP_SIGNING_TRUST_ANCHORS_FILE: 'trust/signing.pem' };
    const linked = await lambdaConfig(
      lambdaEnv({ ...signing, OP_CERTIFICATE_LINKS_FILE: 'trust/links.json' }),
    );
    const alice = pki.identities[0] as DevIdentity;
    expect(linked.identity?.links?.authoritative).toBe(true);
    await expect(
      linked.identity?.links?.userAuthSerialFor(parseCertificate(alice.signing.der)),
    ).resolves.toBe(alice.userAuth.serialHex);
    expect(resolveOpConfig(linked).identity).toMatchObject({ enabled: true, allowUnknownRevocation: false });
    // Without the link file the OP refuses to start, unless the operator opts in.
    await expect(createLambdaHandler(await lambdaConfig(lambdaEnv(signing)))).rejects.toThrow(
      /certificate link source/,
    );
    const optedIn = await lambdaConfig(
      lambdaEnv({ ...signing, OP_IDENTITY_ACCEPT_UNLINKED_SIGNING_CERTIFICATES: 'true' }),
    );
    expect(resolveOpConfig(optedIn).identity).toMatchObject({
      enabled: true,
      acceptUnlinkedSigningCertificates: true,
    });
  });
});

describe('the Lambda bundle (bundle-options.ts, split as the stack deploys it)', () => {
  it('leaves the OCSP messages with pkijs to a chunk loaded on first use, and that chunk loads', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'op-bundle-'));
    try {
      const entry = fileURLToPath(new URL('../../functions/op/lambda.ts', import.meta.url));
      const { metafile } = await build({ ...opLambdaSplitBuildOptions(entry, outdir), metafile: true });
      const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.mjs'));
      const fromPkijs = (inputs: object) =>
        Object.keys(inputs).some((path) => path.includes('node_modules/pkijs/'));
      const [entryFile, entryOutput] =
        outputs.find(([, output]) => output.entryPoint?.endsWith('lambda.ts')) ?? [];
      expect(entryFile?.endsWith(`/${SPLIT_ENTRY_FILE}`)).toBe(true);
      expect(fromPkijs(entryOutput?.inputs ?? {})).toBe(false);
      const [ocspChunk] = outputs.find(([, output]) => fromPkijs(output.inputs)) ?? [];
      expect(ocspChunk).toMatch(/\/chunks\/ocsp-[A-Z0-9]+\.mjs$/);
      // Only ever imported dynamically, so a cold start neither reads nor compiles it.
      const importers = outputs.flatMap(([, output]) =>
        output.imports.filter((imported) => imported.path === ocspChunk).map((imported) => imported.kind),
      );
      expect(new Set(importers)).toEqual(new Set(['dynamic-import']));
      await import(pathToFileURL(join(outdir, 'chunks', basename(ocspChunk as string))).href);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the entry point's start-up client listing (listingClientsAfter)", () => {
  it('starts only once the first invocation has been answered', async () => {
    const config = await testOpConfig(ISSUER, { table: await newTable() });
    let listings = 0;
    const { clients } = config.storage;
    const counted: OpConfig = {
      ...config,
      storage: {
        ...config.storage,
        clients: {
          list: () => {
            listings += 1;
            return clients.list();
          },
        },
      },
    };
    let markAnswered: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      markAnswered = resolve;
    });
    const started = await createLambdaHandler(listingClientsAfter(counted, answered));
    const discovery = lambdaEvent(`${ISSUER}/.well-known/openid-configuration`, {});
    expect(((await started(discovery, {})) as V2Result).statusCode).toBe(200);
    expect(listings).toBe(0);
    markAnswered();
    await new Promise((resolve) => setImmediate(resolve));
    expect(listings).toBe(1);
  });
});
