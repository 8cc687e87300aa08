/**
 * Identity verification with an RP nobody on this project wrote: Python Authlib 1.2 (Debian's
 * python3-authlib) running test/interop/authlib/rp_server.py with myna_identity_client.py, which
 * asks for OpenID Connect for Identity Assurance 1.0 `verified_claims` through the `claims`
 * parameter and validates the ID token (signature against the JWKS, iss, aud, nonce, at_hash) and
 * the verified_claims (trust framework and evidence types the OP advertises, only claims that were
 * asked for, every essential one, their types). The person signs in and verifies in real
 * Chromium, both secrets typed into the helper's real PIN window. Fails loudly without Authlib.
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { useLocalTables } from '../storage/local-table.js';
import { freePort, signInWithHelperWindow } from '../support/browser.js';
import {
  type IdentityPeople,
  type IdentityWorld,
  identityPeople,
  shareOnConsentPage,
  startIdentityWorld,
  verifyIdentityWithHelperWindow,
} from '../support/identity-world.js';
import { authlibClientMetadata, startAuthlibRp } from '../support/interop-authlib.js';
import { backAtRp, step } from '../support/interop-op.js';
import { type RpProcess, rpBaseUrl } from '../support/interop-process.js';

const RP = 'Authlib (identity)';
const CLIENT = { id: 'authlib-identity', secret: randomBytes(32).toString('base64url'), host: '127.0.0.5' };
/** What the RP asks for: the name is essential, the address the person may leave out. */
const VERIFIED_CLAIMS = { name: { essential: true }, birthdate: { essential: true }, address: null };

const newTable = useLocalTables();
let people: IdentityPeople;
let world: IdentityWorld;
let rp: RpProcess & { baseUrl: string };

beforeAll(async () => {
  people = await identityPeople();
  const port = await freePort();
  world = await startIdentityWorld({
    table: await newTable(),
    people,
    clients: [
      {
        ...authlibClientMetadata(CLIENT.id, CLIENT.secret, rpBaseUrl(CLIENT.host, port), true),
        scope: 'openid name birthdate address',
      },
    ],
    privateRpHosts: [CLIENT.host],
  });
  rp = await step(RP, 'start the RP', () =>
    startAuthlibRp({
      issuer: world.issuer,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      host: CLIENT.host,
      port,
      verifiedClaims: VERIFIED_CLAIMS,
    }),
  );
}, 90_000);

afterAll(async () => {
  await rp?.close();
  await world?.close();
});

/** What the RP answers at `/`: its session's validated claims, or the check that failed. */
interface RpSession {
  readonly claims: Record<string, unknown> & {
    readonly verified_claims: { claims: object; verification: { evidence: object[] } };
  };
  readonly error?: string;
  readonly detail?: string;
}

/** The RP's session, read by the page itself (same origin, the browser's cookies). */
async function rpSession(page: Page): Promise<{ status: number; body: RpSession }> {
  return page.evaluate(async () => {
    const response = await fetch('/');
    return { status: response.status, body: (await response.json()) as RpSession };
  });
}

describe('Python Authlib asking for verified_claims', () => {
  it('validates the ID token and verified_claims; an optional claim the person unticked is left out', async () => {
    world.insert(cardIdentityOf(people.alice));
    const page = await (await world.newContext()).newPage();
    await step(RP, 'redirect to the OP with the claims parameter', async () => {
      await page.goto(`${rp.baseUrl}/login`);
      await page.waitForURL(/\/interaction\//, { timeout: 20_000 });
    });
    await step(RP, 'sign in and verify with the signing certificate', async () => {
      await signInWithHelperWindow(page, world.helper.person, people.alice.userAuthPin, 20_000);
      await verifyIdentityWithHelperWindow(page, world.helper.person, people.alice.signingPin);
      await shareOnConsentPage(page, { untick: [/Address/] });
    });
    await step(RP, 'callback', () => backAtRp(page, `${rp.baseUrl}/**`));
    const { status, body } = await rpSession(page);
    expect({ status, error: body.error, detail: body.detail }).toEqual({
      status: 200,
      error: undefined,
      detail: undefined,
    });
    const verified = body.claims.verified_claims;
    expect(verified.claims).toEqual({ name: people.alice.facts.name, birthdate: '1990-01-01' });
    expect(verified.verification.evidence).toEqual([
      expect.objectContaining({ type: 'electronic_signature' }),
    ]);
    expect(JSON.stringify(verified)).not.toMatch(/serial/i);
    // Nothing outside verified_claims: the RP asked for them only there.
    expect(body.claims.name).toBeUndefined();
    expect(body.claims.birthdate).toBeUndefined();
    await page.context().close();
  }, 90_000);

  it('refuses to start when it would ask for a claim the OP does not verify (read from discovery)', async () => {
    const started = startAuthlibRp({
      issuer: world.issuer,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      host: CLIENT.host,
      port: await freePort(),
      verifiedClaims: { name: null, nationalities: null },
    });
    await expect(started).rejects.toThrow("ValueError: the OP cannot verify ['nationalities']");
  }, 30_000);

  it('the README shows the identity client as the test runs it', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const file = await readFile(new URL('./authlib/myna_identity_client.py', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`python\n${file}\`\`\`\n`);
  });
});
