/**
 * Registered OIDC clients, for the operator CLI (`myna-oidc clients add|list|remove`) and the local
 * stack's seeding. Clients are the adapter's `Client` model, so oidc-provider finds exactly what
 * this registry stores; they live in the table's listable `Client` partition (pk `Client`, sk the
 * client_id) so `list` is a strongly consistent Query, not a Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClientMetadata } from 'oidc-provider';
import { StorageError } from './errors.js';
import { CLIENT_MODEL, createDynamoAdapter, type DynamoAdapter } from './oidc-adapter.js';

/** Options of ClientRegistry. */
export interface ClientRegistryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Create, list, read and remove client metadata (stored as given, without expiry). */
export class ClientRegistry {
  private readonly clients: DynamoAdapter;

  constructor(options: ClientRegistryOptions) {
    const Adapter = createDynamoAdapter(options);
    this.clients = new Adapter(CLIENT_MODEL);
  }

  /**
   * Stores `metadata` under its client_id, replacing a client with the same id (so seeding is
   * idempotent). oidc-provider validates the metadata when it loads the client. Throws StorageError
   * CLIENT_ID_MISSING without a non-empty string client_id.
   */
  async add(metadata: ClientMetadata): Promise<void> {
    const clientId: unknown = metadata.client_id;
    if (typeof clientId !== 'string' || clientId.length === 0) {
      throw new StorageError('CLIENT_ID_MISSING', 'client metadata needs a non-empty client_id');
    }
    await this.clients.upsert(clientId, metadata);
  }

  /** Every registered client, in client_id order. */
  async list(): Promise<ClientMetadata[]> {
    return (await this.clients.list()) as ClientMetadata[];
  }

  /** The client with this id, or undefined. */
  async get(clientId: string): Promise<ClientMetadata | undefined> {
    return (await this.clients.find(clientId)) as ClientMetadata | undefined;
  }

  /** Removes the client; returns false when there was none. */
  async remove(clientId: string): Promise<boolean> {
    if (!(await this.clients.find(clientId))) return false;
    await this.clients.destroy(clientId);
    return true;
  }
}
