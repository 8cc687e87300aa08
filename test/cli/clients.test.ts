import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../cli/main.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { startLocalDynamo } from '../../functions/storage/local-dynamodb.js';
import { ensureTable } from '../../functions/storage/table.js';
import { runCaptured } from '../support/cli.js';

let dynamo: Awaited<ReturnType<typeof startLocalDynamo>>;
const TABLE = 'clients-cli-test';
const cli = (...argv: string[]) =>
  runCaptured(runCli, [...argv, '--endpoint', dynamo.endpoint, '--table', TABLE]);

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, TABLE);
});
afterAll(async () => {
  await dynamo.close();
});

describe('myna-oidc clients', () => {
  it('adds a confidential pairwise client, printing its secret once, and lists it without the secret', async () => {
    const added = await cli('clients', 'add', 'shop', '--redirect-uri', 'https://shop.example/cb');
    expect(added.code).toBe(0);
    const secret = /client_secret: ([A-Za-z0-9_-]{43})/.exec(added.out)?.[1];
    expect(secret).toBeDefined();
    const stored = await new ClientRegistry({ client: dynamo.client, tableName: TABLE }).get('shop');
    expect(stored).toMatchObject({
      client_secret: secret,
      subject_type: 'pairwise',
      token_endpoint_auth_method: 'client_secret_basic',
      myna_first_party: false,
      myna_raw_serial_claim: false,
    });
    const listed = await cli('clients', 'list', '--json');
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ client_id: 'shop' })]);
    expect(listed.out).not.toContain(secret as string);
    expect((await cli('clients', 'list')).out).toMatch(/^shop {2}\[confidential, pairwise sub\]/m);
  });

  it('adds a public first-party client and warns loudly about the raw serial claim', async () => {
    const added = await cli(
      'clients',
      'add',
      'portal',
      '--redirect-uri',
      'https://portal.example/cb',
      '--public',
      '--first-party',
      '--raw-serial-claim',
    );
    expect(added.code).toBe(0);
    expect(added.out).not.toContain('client_secret');
    expect(added.err).toMatch(/WARNING: this client will receive raw certificate serial numbers/);
    expect((await cli('clients', 'list')).out).toMatch(
      /^portal {2}\[public, pairwise sub, first-party, RAW SERIAL CLAIM\]/m,
    );
  });

  it('removes a client, and says so when there is none', async () => {
    await cli('clients', 'add', 'gone', '--redirect-uri', 'https://gone.example/cb');
    expect((await cli('clients', 'remove', 'gone')).code).toBe(0);
    const again = await cli('clients', 'remove', 'gone');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/No client gone/);
  });

  it('refuses bad command lines with usage', async () => {
    expect((await cli('clients', 'add', 'x')).code).toBe(2);
    expect((await cli('clients', 'add', 'x', '--redirect-uri', 'not a uri')).err).toMatch(
      /not an absolute URI/,
    );
    expect(
      (await cli('clients', 'add', 'x', '--redirect-uri', 'https://x/cb', '--subject-type', 'raw')).code,
    ).toBe(2);
    expect((await cli('clients', 'frob', 'x')).code).toBe(2);
  });
});
