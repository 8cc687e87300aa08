/** `myna-oidc clients`: registration that is complete, validated by oidc-provider, and never destructive. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import { clientsUsage } from '../../cli/commands/clients.js';
import { runCli } from '../../cli/main.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { startLocalDynamo } from '../../functions/storage/local-dynamodb.js';
import { ensureTable } from '../../functions/storage/table.js';
import { runCaptured } from '../support/cli.js';

let dynamo: Awaited<ReturnType<typeof startLocalDynamo>>;
let dir: string;
let publicJwks: string;
let privateJwks: string;
const TABLE = 'clients-cli-test';
const cli = (...argv: string[]) =>
  runCaptured(runCli, [...argv, '--endpoint', dynamo.endpoint, '--table', TABLE]);
/** `clients add <id>` with the redirect URI https://<id>.example/cb and `options`. */
const add = (clientId: string, ...options: string[]) =>
  cli('clients', 'add', clientId, '--redirect-uri', `https://${clientId}.example/cb`, ...options);
const stored = (clientId: string) =>
  new ClientRegistry({ client: dynamo.client, tableName: TABLE }).get(clientId);
const secretIn = (text: string) => /client_secret: ([A-Za-z0-9_-]{43})/.exec(text)?.[1];

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, TABLE);
  dir = await mkdtemp(join(tmpdir(), 'myna-clients-'));
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  publicJwks = join(dir, 'rp-public.jwks.json');
  privateJwks = join(dir, 'rp-private.jwks.json');
  await writeFile(publicJwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'rp-1' }] }));
  await writeFile(privateJwks, JSON.stringify(await exportJWK(privateKey)));
});
afterAll(async () => {
  await dynamo.close();
});

describe('clients add', () => {
  it('adds a confidential pairwise client, printing its secret once, and lists it without the secret', async () => {
    const added = await add('shop');
    expect(added.code).toBe(0);
    const secret = secretIn(added.out);
    expect(secret).toBeDefined();
    expect(await stored('shop')).toMatchObject({
      client_secret: secret,
      subject_type: 'pairwise',
      token_endpoint_auth_method: 'client_secret_basic',
      myna_first_party: false,
      myna_raw_serial_claim: false,
    });
    const listed = await cli('clients', 'list', '--json');
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ client_id: 'shop' })]);
    expect(listed.out).not.toContain(secret as string);
    expect((await cli('clients', 'list')).out).toMatch(
      /^shop {2}\[confidential, client_secret_basic, pairwise sub\]/m,
    );
  });

  it('refuses an existing client_id and leaves the client and its secret as they were', async () => {
    const before = await stored('shop');
    const again = await cli('clients', 'add', 'shop', '--redirect-uri', 'https://evil.example/cb');
    expect(again.code).toBe(1);
    expect(again.err).toBe('myna-oidc clients: CLIENT_EXISTS: a client shop is already registered');
    expect(again.out).not.toContain('client_secret');
    expect(await stored('shop')).toEqual(before);
  });

  it('adds a public first-party client and warns loudly about the raw serial claim', async () => {
    const added = await add('portal', '--public', '--first-party', '--raw-serial-claim');
    expect(added.code).toBe(0);
    expect(added.out).not.toContain('client_secret');
    expect(added.err).toMatch(/WARNING: this client will receive raw certificate serial numbers/);
    expect((await cli('clients', 'list')).out).toMatch(
      /^portal {2}\[public, PKCE required, pairwise sub, first-party, RAW SERIAL CLAIM\]/m,
    );
  });

  it('registers everything discovery advertises: names (ja), logo, links, algorithms, DPoP, PAR, logout', async () => {
    const added = await add(
      'full',
      '--post-logout-redirect-uri',
      'https://full.example/bye',
      '--client-name',
      'Full Shop',
      '--client-name-ja',
      'フルショップ',
      '--logo-uri',
      'https://full.example/logo.png',
      '--policy-uri',
      'https://full.example/privacy',
      '--tos-uri',
      'https://full.example/terms',
      '--token-endpoint-auth-method',
      'client_secret_post',
      '--id-token-signed-response-alg',
      'ES256',
      '--dpop-bound-access-tokens',
      '--require-pushed-authorization-requests',
      '--backchannel-logout-uri',
      'https://full.example/backchannel',
      '--subject-type',
      'public',
    );
    expect(added.code).toBe(0);
    expect(secretIn(added.out)).toBeDefined();
    expect(await stored('full')).toMatchObject({
      post_logout_redirect_uris: ['https://full.example/bye'],
      client_name: 'Full Shop',
      'client_name#ja': 'フルショップ',
      logo_uri: 'https://full.example/logo.png',
      policy_uri: 'https://full.example/privacy',
      tos_uri: 'https://full.example/terms',
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
      backchannel_logout_uri: 'https://full.example/backchannel',
      subject_type: 'public',
    });
  });

  it('registers a private_key_jwt client from a JWKS file or a JWKS URI, without a secret', async () => {
    const fromFile = await add(
      'jwt-file',
      '--token-endpoint-auth-method',
      'private_key_jwt',
      '--jwks-file',
      publicJwks,
    );
    expect(fromFile.code).toBe(0);
    expect(fromFile.out).not.toContain('client_secret');
    const client = await stored('jwt-file');
    expect(client?.jwks?.keys).toEqual([expect.objectContaining({ kid: 'rp-1', kty: 'EC' })]);
    expect(client?.client_secret).toBeUndefined();
    const fromUri = await add(
      'jwt-uri',
      '--token-endpoint-auth-method',
      'private_key_jwt',
      '--jwks-uri',
      'https://jwt.example/jwks.json',
    );
    expect(fromUri.code).toBe(0);
    expect(await stored('jwt-uri')).toMatchObject({ jwks_uri: 'https://jwt.example/jwks.json' });
  });

  it('sets every FAPI 2.0 requirement with --profile fapi2', async () => {
    const added = await add('bank', '--profile', 'fapi2', '--jwks-file', publicJwks);
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/confidential, private_key_jwt, pairwise sub, FAPI 2\.0/);
    expect(await stored('bank')).toMatchObject({
      myna_profile: 'fapi2',
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      id_token_signed_response_alg: 'ES256',
    });
    // Client assertions may use any FAPI 2.0 algorithm, EdDSA too (the OP only verifies them).
    const eddsa = await add(
      'bank-eddsa',
      '--profile',
      'fapi2',
      '--jwks-file',
      publicJwks,
      '--token-endpoint-auth-signing-alg',
      'EdDSA',
    );
    expect(eddsa.code).toBe(0);
    expect(await stored('bank-eddsa')).toMatchObject({ token_endpoint_auth_signing_alg: 'EdDSA' });
  });
});

describe('validation with oidc-provider’s own client schema', () => {
  const refused = async (expected: string | RegExp, ...options: string[]) => {
    const run = await cli('clients', 'add', 'bad', ...options);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(expected);
    expect(await stored('bad')).toBeUndefined();
  };

  it('refuses a pairwise client on two hosts without a sector_identifier_uri', async () => {
    await refused(
      'myna-oidc clients: INVALID_CLIENT_METADATA: sector_identifier_uri is mandatory property',
      '--redirect-uri',
      'https://a.example/cb',
      '--redirect-uri',
      'https://b.example/cb',
    );
  });

  it('refuses fragments, non-URIs, unknown algorithms, a missing JWKS, a bad logo and an unloadable sector', async () => {
    await refused(/redirect_uris must not contain fragments/, '--redirect-uri', 'https://a.example/cb#x');
    await refused(/INVALID_CLIENT_METADATA: not a valid URI: not a uri/, '--redirect-uri', 'not a uri');
    await refused(
      /redirect_uris must only contain valid uris/,
      '--redirect-uri',
      'not a uri',
      '--subject-type',
      'public',
    );
    await refused(
      /id_token_signed_response_alg must be 'PS256', 'RS256', or 'ES256'/,
      '--redirect-uri',
      'https://a.example/cb',
      '--id-token-signed-response-alg',
      'HS256',
    );
    await refused(
      /jwks or jwks_uri is mandatory for this client/,
      '--redirect-uri',
      'https://a.example/cb',
      '--token-endpoint-auth-method',
      'private_key_jwt',
    );
    await refused(/logo_uri must be a web uri/, '--redirect-uri', 'https://a.example/cb', '--logo-uri', 'x');
    await refused(
      /could not load sector_identifier_uri response/,
      '--redirect-uri',
      'https://a.example/cb',
      '--sector-identifier-uri',
      'https://127.0.0.1:1/sector.json',
    );
  });

  it('refuses a FAPI 2.0 client that is weakened, now or later', async () => {
    await refused(
      'myna-oidc clients: INVALID_CLIENT_METADATA: jwks or jwks_uri is mandatory for this client',
      '--redirect-uri',
      'https://a.example/cb',
      '--profile',
      'fapi2',
    );
    const fapi2 = ['--redirect-uri', 'https://a.example/cb', '--profile', 'fapi2', '--jwks-file', publicJwks];
    await refused(
      'INVALID_CLIENT_METADATA: myna_profile fapi2 requires dpop_bound_access_tokens',
      ...fapi2,
      '--no-dpop-bound-access-tokens',
    );
    // Not RS256 (FAPI 2.0 §5.4), nor EdDSA: FAPI allows it, but the OP has no Ed25519 key to sign ID tokens.
    for (const alg of ['RS256', 'EdDSA']) {
      await refused(
        /myna_profile fapi2 requires id_token_signed_response_alg PS256 or ES256/,
        ...fapi2,
        '--id-token-signed-response-alg',
        alg,
      );
    }
    const before = await stored('bank');
    const weakened = await cli(
      'clients',
      'update',
      'bank',
      '--token-endpoint-auth-method',
      'client_secret_basic',
    );
    expect(weakened.code).toBe(1);
    expect(weakened.err).toMatch(/myna_profile fapi2 requires token_endpoint_auth_method private_key_jwt/);
    expect(await stored('bank')).toEqual(before);
  });

  it('refuses bad command lines with usage (exit 2)', async () => {
    const noUri = await cli('clients', 'add', 'x');
    expect(noUri.code).toBe(2);
    expect(noUri.err).toMatch(/^clients add needs at least one --redirect-uri\n\nUsage:/);
    expect((await cli('clients', 'frob', 'x')).code).toBe(2);
    expect((await cli('clients', 'add', 'x', '--redirect-uri', 'https://x/cb', '--frob')).code).toBe(2);
    expect(
      (await cli('clients', 'add', 'x', '--redirect-uri', 'https://x/cb', '--profile', 'fapi1')).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'clients',
          'add',
          'x',
          '--redirect-uri',
          'https://x/cb',
          '--public',
          '--token-endpoint-auth-method',
          'private_key_jwt',
        )
      ).code,
    ).toBe(2);
    expect((await cli('clients', 'update', 'shop')).code).toBe(2);
    const method = await cli(
      'clients',
      'add',
      'x',
      '--redirect-uri',
      'https://x/cb',
      '--token-endpoint-auth-method',
      'client_secret_jwt',
    );
    expect(method.code).toBe(2);
    const privateKey = await cli(
      'clients',
      'add',
      'x',
      '--redirect-uri',
      'https://x/cb',
      '--token-endpoint-auth-method',
      'private_key_jwt',
      '--jwks-file',
      privateJwks,
    );
    expect(privateKey.code).toBe(2);
    expect(privateKey.err).toMatch(
      /holds private or secret key material: give the relying party's public keys only/,
    );
    expect(await stored('x')).toBeUndefined();
    expect(method.err).toMatch(
      /^--token-endpoint-auth-method must be one of client_secret_basic, client_secret_post, private_key_jwt, none/,
    );
  });
});

describe('clients update, rotate-secret, show', () => {
  it('changes only what is given; an empty value removes a field; --no-<switch> turns it off', async () => {
    await add('edit', '--first-party', '--logo-uri', 'https://edit.example/l.png');
    const before = await stored('edit');
    const updated = await cli(
      'clients',
      'update',
      'edit',
      '--client-name',
      'Edited',
      '--logo-uri',
      '',
      '--no-first-party',
      '--redirect-uri',
      'https://edit.example:8443/cb',
    );
    expect(updated.code).toBe(0);
    expect(updated.out).toMatch(/^Updated client edit/);
    expect(updated.out).not.toContain('client_secret:');
    const { logo_uri: _logo, ...rest } = before ?? {};
    expect(await stored('edit')).toEqual({
      ...rest,
      client_name: 'Edited',
      myna_first_party: false,
      redirect_uris: ['https://edit.example:8443/cb'],
    });
  });

  it('--fresh-login sets myna_fresh_login (no SSO, shown in list); --no-fresh-login clears it', async () => {
    await add('unlinkable', '--fresh-login');
    expect(await stored('unlinkable')).toMatchObject({ myna_fresh_login: true });
    expect((await cli('clients', 'list')).out).toMatch(/^unlinkable {2}\[.*fresh login\]/m);
    expect((await cli('clients', 'update', 'unlinkable', '--no-fresh-login')).code).toBe(0);
    expect(await stored('unlinkable')).toMatchObject({ myna_fresh_login: false });
  });

  it('gives a client that changes to a secret method a new secret, and drops it for private_key_jwt', async () => {
    const toSecret = await cli(
      'clients',
      'update',
      'portal',
      '--token-endpoint-auth-method',
      'client_secret_basic',
    );
    expect(toSecret.code).toBe(0);
    expect((await stored('portal'))?.client_secret).toBe(secretIn(toSecret.out));
    const toJwt = await cli(
      'clients',
      'update',
      'portal',
      '--token-endpoint-auth-method',
      'private_key_jwt',
      '--jwks-file',
      publicJwks,
    );
    expect(toJwt.code).toBe(0);
    expect((await stored('portal'))?.client_secret).toBeUndefined();
  });

  it('says so for a client that does not exist', async () => {
    const run = await cli('clients', 'update', 'ghost', '--client-name', 'x');
    expect(run).toMatchObject({
      code: 1,
      err: 'myna-oidc clients: CLIENT_NOT_FOUND: no client ghost is registered',
    });
    expect((await cli('clients', 'show', 'ghost')).code).toBe(1);
    expect((await cli('clients', 'rotate-secret', 'ghost')).code).toBe(1);
  });

  it('rotates the secret, printing the new one once; refuses a client without a secret', async () => {
    const old = (await stored('shop'))?.client_secret;
    const rotated = await cli('clients', 'rotate-secret', 'shop');
    expect(rotated.code).toBe(0);
    const secret = secretIn(rotated.out);
    expect(secret).toBeDefined();
    expect(secret).not.toBe(old);
    expect((await stored('shop'))?.client_secret).toBe(secret);
    const none = await cli('clients', 'rotate-secret', 'jwt-file');
    expect(none).toMatchObject({ code: 1 });
    expect(none.err).toMatch(
      /NO_CLIENT_SECRET: client jwt-file authenticates with private_key_jwt: it has no secret/,
    );
  });

  it('shows one client, never its secret', async () => {
    const secret = (await stored('full'))?.client_secret as string;
    const text = await cli('clients', 'show', 'full');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^full {2}\[confidential, client_secret_post, public sub\]$/m);
    expect(text.out).toMatch(/^client_name#ja: フルショップ$/m);
    expect(text.out).toMatch(/^client_secret: \(set; replace it with clients rotate-secret\)$/m);
    expect(text.out).not.toContain(secret);
    const json = await cli('clients', 'show', 'full', '--json');
    expect(JSON.parse(json.out)).toMatchObject({
      client_id: 'full',
      backchannel_logout_uri: 'https://full.example/backchannel',
    });
    expect(json.out).not.toContain(secret);
  });

  it('removes a client, and says so when there is none', async () => {
    await add('gone');
    expect((await cli('clients', 'remove', 'gone')).code).toBe(0);
    const again = await cli('clients', 'remove', 'gone');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/No client gone/);
  });
});

describe('clients --help', () => {
  it('documents every option the command accepts', async () => {
    const help = await runCaptured(runCli, ['clients', '--help']);
    expect(help).toMatchObject({ code: 0, out: clientsUsage });
    const options = [
      'redirect-uri',
      'post-logout-redirect-uri',
      'client-name',
      'client-name-ja',
      'logo-uri',
      'policy-uri',
      'tos-uri',
      'token-endpoint-auth-method',
      'public',
      'jwks-uri',
      'jwks-file',
      'token-endpoint-auth-signing-alg',
      'id-token-signed-response-alg',
      'dpop-bound-access-tokens',
      'require-pushed-authorization-requests',
      'profile',
      'subject-type',
      'sector-identifier-uri',
      'backchannel-logout-uri',
      'first-party',
      'raw-serial-claim',
      'fresh-login',
      'scope',
      'purpose',
      'purpose-ja',
      'identity-evidence',
      'retain-identity-evidence',
      'remember-identity-consent',
      'endpoint',
      'table',
      'region',
      'json',
    ];
    for (const option of options) expect(clientsUsage).toContain(`--${option}`);
    for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']) {
      expect(clientsUsage).toContain(method);
    }
    // Every option of the usage text is accepted (an unknown one would exit 2 before touching storage).
    for (const option of clientsUsage.matchAll(/--([a-z][a-z-]+)/g)) {
      if (option[1]?.startsWith('no-')) continue;
      expect(options).toContain(option[1]);
    }
  });
});
