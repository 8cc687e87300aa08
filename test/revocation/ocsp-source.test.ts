/**
 * OcspSource against real `openssl ocsp` responders on 127.0.0.1 (one index file; signing as a
 * delegated responder the development CA issued for OCSPSigning, with and without its certificate
 * in the response, as a CA certificate without that EKU, or as the CA itself with a responderID by
 * key), found by the configured URL or by the certificate's AIA, and against fakes that are down, never answer,
 * answer an HTTP error or an unsuccessful status, send an endless body, replay a response for
 * another nonce, or break the signature. The checks of one response are in ocsp.test.ts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { type DevCertificate, issueUserAuthCertificate, randomSerialHex } from '../../dev-pki/issue.js';
import { OCSP_MAX_RESPONSE_BYTES } from '../../functions/defaults.js';
import { parseCertificate } from '../../functions/jpki/certificate.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { verifyLogin } from '../../functions/jpki/verify-login.js';
import { buildOcspRequest } from '../../functions/revocation/ocsp.js';
import { OcspSource } from '../../functions/revocation/ocsp-source.js';
import type { RevocationQuery } from '../../functions/revocation/revocation-source.js';
import { childrenOf, type DerElement, readElement, readWhole, Tag } from '../../protocol/der.js';
import { OID_EKU_OCSP_SIGNING } from '../../protocol/oids.js';
import { devPki, newNonce, ORIGIN, signChallenge, userAuthAnchors } from '../support/dev-pki.js';
import { unsuccessfulResponse } from './ocsp-fixture.js';

const DAY = 86_400_000;
let pki: DevPki;
let anchors: TrustAnchors;
let dir: string;
let alice: DevIdentity;
let revoked: DevIdentity;
let stranger: DevCertificate;
/** A card whose AIA names the responder (no responder URL configured). */
let aiaCard: DevCertificate;
const responders: ChildProcess[] = [];
let responderUrl: string;
/** A responder signing with a certificate of the CA that lacks the OCSPSigning EKU. */
let unauthorizedUrl: string;
/** The CA answering itself, its responderID by key hash. */
let caByKeyUrl: string;
/** The delegated responder leaving its certificate out of the response. */
let withoutCertsUrl: string;
const servers: Server[] = [];

if (spawnSync('openssl', ['version']).status !== 0) {
  throw new Error('these tests need the openssl binary (apt-get install openssl)');
}

/** `YYMMDDHHMMSSZ`, the time format of an openssl index file. */
function indexTime(date: Date): string {
  return `${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}

/** Starts `openssl ocsp` in `dir` signing with `signer` (and `options`); resolves its URL once it listens. */
async function startResponder(signer: DevCertificate, name: string, options: string[] = []): Promise<string> {
  await writeFile(join(dir, `${name}.pem`), signer.pem);
  await writeFile(join(dir, `${name}.key`), signer.privateKeyPem);
  const child = spawn(
    'openssl',
    ['ocsp', '-index', 'index.txt', '-port', '0', '-rsigner', `${name}.pem`, '-rkey', `${name}.key`].concat([
      '-CA',
      'ca.pem',
      '-nrequest',
      '1000',
      '-ndays',
      '1',
      ...options,
    ]),
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  responders.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /ACCEPT \S*:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`openssl ocsp exited (${code}): ${output}`)));
  });
  return `http://127.0.0.1:${port}/`;
}

beforeAll(async () => {
  pki = await devPki();
  anchors = userAuthAnchors(pki);
  [alice, , revoked] = pki.identities as [DevIdentity, DevIdentity, DevIdentity];
  const ca = alice.userAuthCa;
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  const [signer, unknownCert, noEku] = await Promise.all([
    issueUserAuthCertificate({ ca, ...validity, extendedKeyUsage: [OID_EKU_OCSP_SIGNING], policies: [] }),
    issueUserAuthCertificate({ ca, ...validity }),
    issueUserAuthCertificate({ ca, ...validity, policies: [] }),
  ]);
  stranger = unknownCert;
  dir = await mkdtemp(join(tmpdir(), 'myna-ocsp-'));
  const aiaSerial = randomSerialHex();
  const expiry = indexTime(new Date(now + 365 * DAY));
  const line = (status: string, serial: string, revokedAt = '') =>
    `${status}\t${expiry}\t${revokedAt}\t${serial.toUpperCase()}\tunknown\t/CN=card\n`;
  await writeFile(
    join(dir, 'index.txt'),
    line('V', alice.userAuth.serialHex) +
      line('V', aiaSerial) +
      line('R', revoked.userAuth.serialHex, `${indexTime(new Date(now - DAY))},keyCompromise`),
  );
  await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  [responderUrl, unauthorizedUrl, caByKeyUrl, withoutCertsUrl] = await Promise.all([
    startResponder(signer, 'responder'),
    startResponder(noEku, 'no-eku'),
    startResponder(ca, 'ca', ['-resp_key_id']),
    startResponder(signer, 'responder-no-certs', ['-resp_no_certs']),
  ]);
  aiaCard = await issueUserAuthCertificate({ ca, ...validity, serialHex: aiaSerial, ocspUrl: responderUrl });
});

afterAll(async () => {
  for (const child of responders) child.kill();
  for (const server of servers) server.close();
  await rm(dir, { recursive: true, force: true });
});

function query(der: Uint8Array, now = new Date()): RevocationQuery {
  const certificate = parseCertificate(der);
  const issuer = anchors.findSigner(certificate);
  if (!issuer) throw new Error('no issuer');
  return { certificate, issuer, now };
}

/** An HTTP server on 127.0.0.1 with `handler`; resolves its URL. */
async function listen(handler: RequestListener): Promise<string> {
  const server = createHttpServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** An HTTP server answering every request with `body`. */
function fixedResponder(body: Uint8Array): Promise<string> {
  return listen((_, response) => {
    response.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
  });
}

/** A real response from openssl for a request with its own nonce. */
async function capturedResponse(): Promise<Buffer> {
  const { certificate, issuer } = query(alice.userAuth.der);
  const request = buildOcspRequest(certificate, issuer, randomBytes(32));
  const response = await fetch(responderUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request' },
    body: request.der,
  });
  return Buffer.from(await response.arrayBuffer());
}

/** Offset of the last signature byte of the BasicOCSPResponse inside an OCSPResponse. */
function signatureOffset(response: Buffer): number {
  const [, wrapped] = childrenOf(response, readWhole(response, Tag.SEQUENCE));
  const [responseBytes] = childrenOf(response, wrapped as DerElement);
  const [, octets] = childrenOf(response, responseBytes as DerElement);
  const basic = readElement(response, (octets as DerElement).valueStart);
  const [, , signature] = childrenOf(response, basic);
  return (signature as DerElement).end - 1;
}

describe('OcspSource against openssl ocsp', () => {
  it('answers good, revoked with its reason, and unknown for a certificate the responder does not know', async () => {
    const source = new OcspSource({ responderUrl });
    expect(await source.status(query(alice.userAuth.der))).toEqual({ status: 'good' });
    expect(await source.status(query(revoked.userAuth.der))).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
    expect(await source.status(query(stranger.der))).toMatchObject({ status: 'unknown' });
  });

  it('makes verifyLogin fail with REVOKED for the revoked card and pass for alice', async () => {
    const source = new OcspSource({ responderUrl });
    const login = (identity: DevIdentity) => {
      const nonce = newNonce();
      return verifyLogin(
        {
          certificate: identity.userAuth.der,
          signature: signChallenge(identity.userAuth.privateKeyPem, ORIGIN, nonce),
        },
        { origin: ORIGIN, nonce },
        {
          trustAnchors: anchors,
          now: new Date(),
          clockSkewSeconds: 0,
          revocation: source,
          certificateKeySecret: randomBytes(32),
        },
      );
    };
    await expect(login(revoked)).rejects.toMatchObject({ code: 'REVOKED' });
    await expect(login(alice)).resolves.toMatchObject({ revocation: 'good' });
  });

  it('caches an answer until its nextUpdate', async () => {
    let requests = 0;
    const proxy = await listen(async (request, response) => {
      requests++;
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const answer = await fetch(responderUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: Buffer.concat(chunks),
      });
      response.writeHead(200).end(Buffer.from(await answer.arrayBuffer()));
    });
    const source = new OcspSource({ responderUrl: proxy });
    expect(await source.status(query(alice.userAuth.der))).toEqual({ status: 'good' });
    expect(await source.status(query(alice.userAuth.der))).toEqual({ status: 'good' });
    expect(requests).toBe(1);
    expect(await source.status(query(alice.userAuth.der, new Date(Date.now() + 2 * DAY)))).toMatchObject({
      status: 'unknown',
    });
    expect(requests).toBe(2);
  });
  it('finds the responder through the certificate’s AIA when no responder URL is configured', async () => {
    expect(await new OcspSource().status(query(aiaCard.der))).toEqual({ status: 'good' });
  });

  it('accepts the CA answering itself with a responderID by key, and revoked with its reason', async () => {
    const source = new OcspSource({ responderUrl: caByKeyUrl });
    expect(await source.status(query(alice.userAuth.der))).toEqual({ status: 'good' });
    expect(await source.status(query(revoked.userAuth.der))).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
  });

  it('refuses a delegated responder that leaves its certificate out (nothing shows the CA authorised it)', async () => {
    expect(await new OcspSource({ responderUrl: withoutCertsUrl }).status(query(alice.userAuth.der))).toEqual(
      {
        status: 'unknown',
        detail: 'OCSP failed: OCSP_RESPONDER_NOT_AUTHORIZED',
      },
    );
  });

  it('refuses a responder whose certificate lacks the OCSPSigning extended key usage', async () => {
    expect(await new OcspSource({ responderUrl: unauthorizedUrl }).status(query(alice.userAuth.der))).toEqual(
      {
        status: 'unknown',
        detail: 'OCSP failed: OCSP_RESPONDER_NOT_AUTHORIZED',
      },
    );
  });

  it('refuses a real answer whose thisUpdate is ahead of the OP clock, or whose nextUpdate has passed', async () => {
    const notCurrent = { status: 'unknown', detail: 'OCSP failed: OCSP_NOT_CURRENT' };
    const behind = new Date(Date.now() - 60 * 60_000);
    expect(await new OcspSource({ responderUrl }).status(query(alice.userAuth.der, behind))).toEqual(
      notCurrent,
    );
    const later = new Date(Date.now() + 2 * DAY);
    expect(await new OcspSource({ responderUrl }).status(query(alice.userAuth.der, later))).toEqual(
      notCurrent,
    );
  });
});

describe('OcspSource failures answer unknown', () => {
  it('when the responder is down', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const started = Date.now();
    const status = await new OcspSource({
      responderUrl: `http://127.0.0.1:${port}/`,
      timeoutMs: 1000,
    }).status(query(alice.userAuth.der));
    expect(status).toMatchObject({ status: 'unknown' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('when the responder never answers, within the timeout', async () => {
    const silent = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const started = Date.now();
    const status = await new OcspSource({ responderUrl: `http://127.0.0.1:${port}/`, timeoutMs: 500 }).status(
      query(alice.userAuth.der),
    );
    const elapsed = Date.now() - started;
    silent.close();
    expect(status).toMatchObject({ status: 'unknown', detail: expect.stringContaining('TimeoutError') });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
  });

  it('when a valid response is replayed for another nonce', async () => {
    const url = await fixedResponder(await capturedResponse());
    expect(await new OcspSource({ responderUrl: url }).status(query(alice.userAuth.der))).toEqual({
      status: 'unknown',
      detail: 'OCSP failed: OCSP_NONCE_MISMATCH',
    });
  });

  it('when the response signature is broken', async () => {
    const response = await capturedResponse();
    const tampered = Buffer.from(response);
    const at = signatureOffset(tampered);
    tampered[at] = (tampered[at] as number) ^ 0x01;
    const status = await new OcspSource({ responderUrl: await fixedResponder(tampered) }).status(
      query(alice.userAuth.der),
    );
    expect(status).toEqual({ status: 'unknown', detail: 'OCSP failed: OCSP_SIGNATURE_INVALID' });
  });

  it('when the response is for a CA that did not sign it (the other generation)', async () => {
    const url = await fixedResponder(await capturedResponse());
    const bob = pki.identities[1] as DevIdentity;
    expect(await new OcspSource({ responderUrl: url }).status(query(bob.userAuth.der))).toMatchObject({
      status: 'unknown',
    });
  });

  it('when the responder answers an unsuccessful status (tryLater)', async () => {
    const url = await fixedResponder(unsuccessfulResponse(3));
    expect(await new OcspSource({ responderUrl: url }).status(query(alice.userAuth.der))).toEqual({
      status: 'unknown',
      detail: 'OCSP failed: OCSP_NOT_SUCCESSFUL',
    });
  });

  it('when the responder answers an HTTP error', async () => {
    const url = await listen((_, response) => response.writeHead(503).end('busy'));
    expect(await new OcspSource({ responderUrl: url }).status(query(alice.userAuth.der))).toEqual({
      status: 'unknown',
      detail: 'OCSP responder answered HTTP 503',
    });
  });

  it('when Content-Length announces a body over the limit', async () => {
    const body = Buffer.alloc(OCSP_MAX_RESPONSE_BYTES + 1);
    const url = await listen((_, response) =>
      response.writeHead(200, { 'content-length': body.length }).end(body),
    );
    expect(await new OcspSource({ responderUrl: url }).status(query(alice.userAuth.der))).toEqual({
      status: 'unknown',
      detail: 'OCSP failed: OCSP_TOO_LARGE',
    });
  });

  it('when an endless body passes the limit: refused while it streams, the connection dropped', async () => {
    let sent = 0;
    let closed: () => void = () => {};
    const dropped = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const url = await listen((_, response) => {
      response.writeHead(200, { 'content-type': 'application/ocsp-response' });
      const chunk = Buffer.alloc(16 * 1024);
      const pump = () => {
        while (!response.destroyed && sent < 1024 * OCSP_MAX_RESPONSE_BYTES) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
      };
      response.once('close', closed);
      pump();
    });
    expect(await new OcspSource({ responderUrl: url }).status(query(alice.userAuth.der))).toEqual({
      status: 'unknown',
      detail: 'OCSP failed: OCSP_TOO_LARGE',
    });
    await dropped;
    expect(sent).toBeLessThan(1024 * OCSP_MAX_RESPONSE_BYTES);
  });
});
