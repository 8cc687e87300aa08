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

  test('add refuses an existing client_id and keeps the stored client and its secret', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.add(client('rp-a'));
    await expect(registry.add({ ...client('rp-a'), client_secret: 'rotated' })).rejects.toMatchObject({
      code: 'CLIENT_EXISTS',
    });
    expect(await registry.list()).toEqual([client('rp-a')]);
  });

  test('put replaces (idempotent seeding of clients defined in code) and counts versions', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.put(client('rp-a'));
    await registry.put({ ...client('rp-a'), client_secret: 'rotated' });
    expect(await registry.getVersioned('rp-a')).toEqual({
      metadata: { ...client('rp-a'), client_secret: 'rotated' },
      version: 2,
    });
  });

  test('update changes the stored client, bumps its version and keeps its client_id', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.add(client('rp-a'));
    const updated = await registry.update('rp-a', (current) => ({
      ...current,
      client_id: 'hijacked',
      client_name: 'RP A',
    }));
    expect(updated).toEqual({ metadata: { ...client('rp-a'), client_name: 'RP A' }, version: 2 });
    expect(await registry.get('rp-a')).toEqual(updated.metadata);
    expect(await registry.get('hijacked')).toBeUndefined();
    await expect(registry.update('rp-x', (current) => current)).rejects.toMatchObject({
      code: 'CLIENT_NOT_FOUND',
    });
  });

  test('concurrent updates lose no change: a conflicting write is re-read and re-applied', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.add({ ...client('rp-a'), redirect_uris: [] });
    const addUri = (uri: string) => (current: ClientMetadata) => ({
      ...current,
      redirect_uris: [...(current.redirect_uris ?? []), uri],
    });
    const uris = Array.from({ length: 4 }, (_, i) => `https://rp-a.example/cb${i}`);
    await Promise.all(uris.map((uri) => registry.update('rp-a', addUri(uri))));
    const stored = await registry.getVersioned('rp-a');
    expect([...(stored?.metadata.redirect_uris ?? [])].sort()).toEqual(uris);
    expect(stored?.version).toBe(1 + uris.length);
  });

  test('an update whose change fails writes nothing', async () => {
    const registry = new ClientRegistry(await newTable());
    await registry.add(client('rp-a'));
    await expect(
      registry.update('rp-a', () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await registry.getVersioned('rp-a')).toEqual({ metadata: client('rp-a'), version: 1 });
  });

  test('a client written before versioning (by the adapter) updates from version 0', async () => {
    const table = await newTable();
    await new (createDynamoAdapter(table))('Client').upsert('rp-old', client('rp-old'));
    const registry = new ClientRegistry(table);
    expect((await registry.getVersioned('rp-old'))?.version).toBe(0);
    const updated = await registry.update('rp-old', (current) => ({ ...current, client_name: 'Old' }));
    expect(updated.version).toBe(1);
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
