/** Pairwise subjects across clients, logins and certificate renewal; the raw-serial claim. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { createDevIdentity, type DevPki } from '../../dev-pki/hierarchy.js';
import { FilePredecessorSource } from '../../functions/accounts/file-predecessor-source.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { RAW_SERIAL_CLAIM, RAW_SERIAL_SCOPE } from '../../functions/op/raw-serial.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { sectorOf } from '../../functions/subject/subject-for.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { devPki } from '../support/dev-pki.js';
import { relyingParty, rpLogin, TestBrowser, VirtualCardSigner } from '../support/oidc-flow.js';
import { memoryLogger, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let pki: DevPki;
let table: TestTable;
let dir: string;
let alice: VirtualCardSigner;
const logger = memoryLogger();

beforeAll(async () => {
  pki = await devPki();
  dir = await mkdtemp(join(tmpdir(), 'myna-op-'));
  table = await newTable();
  alice = new VirtualCardSigner(cardIdentityOf(pki.identities[0] as DevPki['identities'][number]));
  op = await startTestOp({
    table,
    logger,
    predecessors: new FilePredecessorSource(join(dir, 'predecessors.json')),
  });
});
afterAll(async () => {
  await op?.close();
  await alice?.close();
  await rm(dir, { recursive: true, force: true });
});

async function subOf(
  metadata: { client_id: string; client_secret: string; redirect_uris: string[] },
  card: VirtualCardSigner,
  scope = 'openid',
) {
  const rp = await relyingParty({
    issuer: op.url,
    clientId: metadata.client_id,
    clientSecret: metadata.client_secret,
  });
  const { tokens } = await rpLogin({
    rp,
    browser: new TestBrowser(),
    card,
    redirectUri: metadata.redirect_uris[0] as string,
    scope,
  });
  return { rp, tokens, claims: tokens.claims() as client.IDToken };
}

describe('pairwise subjects', () => {
  it('gives two sectors different subs, and one client the same sub on every login', async () => {
    const a1 = await subOf(TEST_CLIENTS.firstParty, alice);
    const a2 = await subOf(TEST_CLIENTS.firstParty, alice);
    const b = await subOf(TEST_CLIENTS.otherSector, alice);
    expect(a1.claims.sub).toBe(a2.claims.sub);
    expect(b.claims.sub).not.toBe(a1.claims.sub);
    expect(a1.claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps the sub after a certificate renewal linked through the predecessor source', async () => {
    const before = await subOf(TEST_CLIENTS.firstParty, alice);
    const old = pki.identities[0] as DevPki['identities'][number];
    const renewed = await createDevIdentity({
      label: 'alice-renewed',
      userAuthCa: old.userAuthCa,
      signingCa: old.signingCa,
      now: new Date(),
    });
    const renewedCard = new VirtualCardSigner(cardIdentityOf(renewed));
    try {
      const unlinked = await subOf(TEST_CLIENTS.firstParty, renewedCard);
      expect(unlinked.claims.sub).not.toBe(before.claims.sub);
      const again = await createDevIdentity({
        label: 'alice-2',
        userAuthCa: old.userAuthCa,
        signingCa: old.signingCa,
        now: new Date(),
      });
      await writeFile(
        join(dir, 'predecessors.json'),
        JSON.stringify({ [again.userAuth.serialHex]: old.userAuth.serialHex }),
      );
      const linkedCard = new VirtualCardSigner(cardIdentityOf(again));
      try {
        const linked = await subOf(TEST_CLIENTS.firstParty, linkedCard);
        expect(linked.claims.sub).toBe(before.claims.sub);
      } finally {
        await linkedCard.close();
      }
    } finally {
      await renewedCard.close();
    }
  });
});

describe('the sector is the host name of the redirect URIs (OIDC Core §8.1 "host component")', () => {
  const onPort = (id: string, redirectUri: string) => ({
    client_id: id,
    client_secret: `${id}-secret-0123456789abcdef0123456789`,
    redirect_uris: [redirectUri],
    myna_first_party: true,
  });

  it('gives the same sub on another port or scheme of the host (an RP that moves keeps its users); another host differs', async () => {
    const registry = new ClientRegistry(table);
    const clients = [
      onPort('rp-port-8443', 'https://moving.example:8443/cb'),
      onPort('rp-port-443', 'https://moving.example/cb'),
      onPort('rp-port-http', 'http://moving.example:8080/cb'),
      onPort('rp-other-host', 'https://moved.example/cb'),
    ];
    for (const metadata of clients) await registry.put(metadata);
    const subs = [];
    for (const metadata of clients) subs.push((await subOf(metadata, alice)).claims.sub);
    expect(new Set(subs.slice(0, 3)).size).toBe(1);
    expect(subs[3]).not.toBe(subs[0]);
  });

  it('is what the previous rule (URL host, port included) gave for RPs on the default port, so their subs stay', () => {
    for (const uri of ['https://rp.example/cb', 'https://rp.example:443/cb', 'http://rp.example:80/cb']) {
      expect(sectorOf({ redirect_uris: [uri] })).toBe(new URL(uri).host);
    }
    expect(
      sectorOf({
        sector_identifier_uri: 'https://sector.example/s.json',
        redirect_uris: ['https://a.example/cb'],
      }),
    ).toBe('sector.example');
    expect(sectorOf({ redirect_uris: ['https://rp.example:8443/cb'] })).toBe('rp.example');
  });
});

describe('raw serial claim', () => {
  const serial = () =>
    (pki.identities[0] as DevPki['identities'][number]).userAuth.serialHex.replace(/^(00)+/, '');

  it('warns at start-up about every client allowed to receive it', () => {
    const warnings = logger.lines.filter((line) => line.event === 'client.raw_serial_claim_enabled');
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ clientId: 'rp-serial' }) }),
    ]);
  });

  it('is in the ID token of the card login for the flagged client only, never in userinfo or on refresh', async () => {
    const { rp, tokens, claims } = await subOf(TEST_CLIENTS.rawSerial, alice, `openid ${RAW_SERIAL_SCOPE}`);
    expect(claims[RAW_SERIAL_CLAIM]).toBe(serial());
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, claims.sub);
    expect(userinfo[RAW_SERIAL_CLAIM]).toBeUndefined();
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token as string);
    expect(refreshed.claims()?.[RAW_SERIAL_CLAIM]).toBeUndefined();

    await expect(subOf(TEST_CLIENTS.firstParty, alice, `openid ${RAW_SERIAL_SCOPE}`)).rejects.toMatchObject({
      error: 'invalid_scope',
    });
  });

  it('never stores the raw serial: the table holds no item containing it', async () => {
    await subOf(TEST_CLIENTS.rawSerial, alice, `openid ${RAW_SERIAL_SCOPE}`);
    const items = JSON.stringify(await scanAll(table));
    expect(items.length).toBeGreaterThan(100);
    expect(items.toLowerCase()).not.toContain(serial());
  });
});
