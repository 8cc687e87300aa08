/** Cache-Control, ETag and 304 on discovery and JWKS (functions/op/cache-headers.ts). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DISCOVERY_MAX_AGE_SECONDS, JWKS_MAX_AGE_SECONDS, TTL } from '../../functions/defaults.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { rotateSigningKeys } from '../../functions/secrets/signing-keys.js';
import { useLocalTables } from '../storage/local-table.js';
import { startTestOp } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;

beforeAll(async () => {
  op = await startTestOp({ table: await newTable() });
});
afterAll(async () => {
  await op?.close();
});

const documents = [
  ['discovery', '/.well-known/openid-configuration', DISCOVERY_MAX_AGE_SECONDS],
  ['OAuth metadata', '/.well-known/oauth-authorization-server', DISCOVERY_MAX_AGE_SECONDS],
  ['JWKS', '/jwks', JWKS_MAX_AGE_SECONDS],
] as const;

describe.each(documents)('%s', (_name, path, maxAge) => {
  it('is cacheable publicly for its max-age, with a strong ETag', async () => {
    const response = await fetch(`${op.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe(`public, max-age=${maxAge}`);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    await response.json();
  });

  it('answers 304 without a body when If-None-Match matches, 200 when it does not', async () => {
    const first = await fetch(`${op.url}${path}`);
    const etag = first.headers.get('etag') as string;
    await first.arrayBuffer();
    const revalidated = await fetch(`${op.url}${path}`, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(revalidated.headers.get('cache-control')).toBe(`public, max-age=${maxAge}`);
    expect(await revalidated.text()).toBe('');
    const listed = await fetch(`${op.url}${path}`, { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(listed.status).toBe(304);
    const other = await fetch(`${op.url}${path}`, { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
    expect(await other.json()).toBeTruthy();
  });
});

describe('consistency with key rotation', () => {
  it('a rotation changes the JWKS ETag, so a revalidating RP gets the new next key', async () => {
    const secrets = await generateSecrets();
    const before = await startTestOp({ table: await newTable(), secrets });
    const after = await startTestOp({ table: await newTable(), secrets: await rotateSigningKeys(secrets) });
    try {
      const old = await fetch(`${before.url}/jwks`);
      const oldTag = old.headers.get('etag') as string;
      const oldKeys = ((await old.json()) as { keys: { kid: string }[] }).keys;
      const rotated = await fetch(`${after.url}/jwks`, { headers: { 'if-none-match': oldTag } });
      expect(rotated.status).toBe(200);
      const newKeys = ((await rotated.json()) as { keys: { kid: string }[] }).keys;
      expect(newKeys.length).toBeGreaterThan(oldKeys.length);
      expect(newKeys.map((key) => key.kid)).toEqual(expect.arrayContaining(oldKeys.map((key) => key.kid)));
    } finally {
      await before.close();
      await after.close();
    }
  });

  it('the JWKS max-age is no longer than the signed tokens live', () => {
    // Rotation steps must be longer than the longest token lifetime (README), which exceeds the
    // JWKS max-age, so every cache already holds a key before it starts signing.
    expect(JWKS_MAX_AGE_SECONDS).toBeLessThanOrEqual(Math.max(TTL.AccessToken, TTL.IdToken));
  });

  it('error answers are not cached', async () => {
    const response = await fetch(`${op.url}/jwks`, { method: 'POST' });
    expect(response.status).not.toBe(200);
    expect(response.headers.get('cache-control') ?? '').not.toMatch(/max-age/);
    expect(response.headers.get('etag')).toBeNull();
    await response.arrayBuffer();
  });
});
