import { describe, expect, test } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { StorageError } from '../../functions/storage/errors.js';
import { createDynamoAdapter } from '../../functions/storage/oidc-adapter.js';
import { useLocalTables } from './local-table.js';

const newTable = useLocalTables();

const client = (clientId: string): ClientMetadata => ({
  client_id: clientId,
  client_secret: `${clientId}-secret`,
  redirect_uris: [`https://${clientId}.example/cb`],
  grant_types: ['authorization_code', 'refresh_token'],
});

describe('ClientRegistry', () => {
  test('adds, lists in client_id order, gets and removes clients', async () => {
    const registry = new ClientRegistry(await newTable());
    expect(await registry.list()).toEqual([]);
    for (const id of ['rp-b', 'rp-a', 'rp-c']) await registry.add(client(id));
    expect((await registry.list()).map((metadata) => metadata.client_id)).toEqual(['rp-a', 'rp-b', 'rp-c']);
    expect(await registry.get('rp-a')).toEqual(client('rp-a'));
    expect(await registry.get('rp-x')).toBeUndefined();
    expect(await registry.remove('rp-b')).toBe(true);
    expect(await registry.remove('rp-b')).toBe(false);
    expect((await registry.list()).map((metadata) => metadata.client_id)).toEqual(['rp-a', 'rp-c']);
  });

  test('adding an existing client_id replaces it (idempotent seeding)', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.add(client('rp-a'));
    await registry.add({ ...client('rp-a'), client_secret: 'rotated' });
    expect(await registry.list()).toEqual([{ ...client('rp-a'), client_secret: 'rotated' }]);
  });

  test('stores through the adapter, so oidc-provider finds the client, and nothing else is listed', async () => {
    const table = await newTable();
    const registry = new ClientRegistry(table);
    const Adapter = createDynamoAdapter(table);
    await registry.add(client('rp-a'));
    await new Adapter('AccessToken').upsert('rp-z', { clientId: 'rp-a' }, 60);
    expect(await new Adapter('Client').find('rp-a')).toEqual(client('rp-a'));
    expect(await registry.list()).toHaveLength(1);
  });

  test('refuses metadata without a client_id', async () => {
    const registry = new ClientRegistry(await newTable());
    for (const metadata of [{}, { client_id: '' }, { client_id: 42 }]) {
      await expect(registry.add(metadata as unknown as ClientMetadata)).rejects.toMatchObject({
        code: 'CLIENT_ID_MISSING',
      });
    }
    await expect(registry.add({} as ClientMetadata)).rejects.toBeInstanceOf(StorageError);
  });

  test('only listed models can be listed', async () => {
    const Adapter = createDynamoAdapter(await newTable());
    await expect(new Adapter('AccessToken').list()).rejects.toMatchObject({ code: 'MODEL_NOT_LISTED' });
  });
});
