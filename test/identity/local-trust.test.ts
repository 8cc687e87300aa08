/** The local stack's trust for identity verification: the development signing CA, its CRL, the link file. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseCertificate, serialHex } from '../../functions/jpki/certificate.js';
import { decodePemOrDer } from '../../functions/jpki/pem.js';
import { type DevTrust, loadDevTrust } from '../../local/dev-trust.js';
import { startLocalStack } from '../../local/stack.js';
import { freePort } from '../support/browser.js';

let dir: string;
let trust: DevTrust;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'myna-local-trust-'));
  trust = await loadDevTrust(join(dir, 'pki'), () => undefined);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const certificate = async (identity: string, file: string) =>
  parseCertificate(
    decodePemOrDer(
      await readFile(join(trust.pkiDir, 'identities', identity, file)),
      'CERTIFICATE',
    )[0] as Uint8Array,
  );

/** The revocation status of an identity's certificate as the local OP sees it. */
async function statusOf(identity: string, file: string): Promise<string> {
  const parsed = await certificate(identity, file);
  const anchors = file === 'signing.pem' ? trust.signingTrustAnchors : trust.trustAnchors;
  const issuer = anchors.findSigner(parsed);
  if (!issuer) throw new Error(`${identity}/${file} is not issued by a trust anchor`);
  return (await trust.revocation.status({ certificate: parsed, issuer, now: new Date() })).status;
}

describe('the local stack trust', () => {
  it('trusts the development signing CA for identity verification, apart from the user-auth CAs', async () => {
    expect(trust.signingTrustAnchors.list).toHaveLength(1);
    expect(trust.signingTrustAnchors.findSigner(await certificate('alice', 'signing.pem'))).toBeDefined();
    expect(trust.trustAnchors.findSigner(await certificate('alice', 'signing.pem'))).toBeUndefined();
  });

  it('revokes the revoked card and the moved signing certificate, nothing else', async () => {
    expect(await statusOf('alice', 'user-auth.pem')).toBe('good');
    expect(await statusOf('alice', 'signing.pem')).toBe('good');
    expect(await statusOf('revoked', 'user-auth.pem')).toBe('revoked');
    expect(await statusOf('revoked', 'signing.pem')).toBe('revoked');
    expect(await statusOf('moved', 'signing.pem')).toBe('revoked');
  });

  it('links each signing certificate to its card, authoritatively', async () => {
    expect(trust.links.authoritative).toBe(true);
    const aliceUserAuth = serialHex((await certificate('alice', 'user-auth.pem')).serialNumber);
    expect(await trust.links.userAuthSerialFor(await certificate('alice', 'signing.pem'))).toBe(
      aliceUserAuth,
    );
    expect(await trust.links.userAuthSerialFor(await certificate('other-card', 'signing.pem'))).not.toBe(
      aliceUserAuth,
    );
  });

  it('turns identity verification on in the local stack', async () => {
    const stack = await startLocalStack({
      dataDir: dir,
      opPort: await freePort(),
      rpPort: await freePort(),
      dynamoPort: 0,
      helperPort: await freePort(),
      runHelper: false,
      opLogger: { info: () => undefined, warn: () => undefined },
      log: () => undefined,
    });
    try {
      const discovery = (await (
        await fetch(`${stack.opUrl}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>;
      expect(discovery).toMatchObject({
        verified_claims_supported: true,
        trust_frameworks_supported: ['jp_aml'],
      });
    } finally {
      await stack.close();
    }
  });
});
