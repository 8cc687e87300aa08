/**
 * An OP for tests: dynalite table, the test file's development PKI as trust anchors (its empty
 * CRLs loaded, so revocation answers "good"), fresh secrets, and the given clients registered.
 */
import type { ClientMetadata } from 'oidc-provider';
import { NO_PREDECESSORS, type PredecessorSource } from '../../functions/accounts/account-store.js';
import type { OpLogger } from '../../functions/log/logger.js';
import type { OpConfig, OpStorage } from '../../functions/op/config.js';
import { dynamoStorage } from '../../functions/op/dynamo-storage.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import type { OpSecrets } from '../../functions/secrets/op-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import type { TestTable } from '../storage/local-table.js';
import { devPki, userAuthAnchors } from './dev-pki.js';

/** Clients the OP tests use (redirect URIs are never fetched: the test browser stops there). */
export const TEST_CLIENTS = {
  firstParty: {
    client_id: 'rp-a',
    client_secret: 'rp-a-secret-0123456789abcdef0123456789',
    redirect_uris: ['https://rp-a.example/cb'],
    post_logout_redirect_uris: ['https://rp-a.example/bye'],
    client_name: 'RP A',
    myna_first_party: true,
  },
  otherSector: {
    client_id: 'rp-b',
    client_secret: 'rp-b-secret-0123456789abcdef0123456789',
    redirect_uris: ['https://rp-b.example/cb'],
    client_name: 'RP B',
    myna_first_party: true,
  },
  thirdParty: {
    client_id: 'rp-third',
    client_secret: 'rp-third-secret-0123456789abcdef012345',
    redirect_uris: ['https://third.example/cb'],
    client_name: 'Third <Party>',
  },
  public: {
    client_id: 'rp-public',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['https://spa.example/cb'],
    client_name: 'SPA',
    myna_first_party: true,
  },
  rawSerial: {
    client_id: 'rp-serial',
    client_secret: 'rp-serial-secret-0123456789abcdef01234',
    redirect_uris: ['https://serial.example/cb'],
    client_name: 'Serial RP',
    myna_first_party: true,
    myna_raw_serial_claim: true,
  },
} satisfies Record<string, ClientMetadata>;

/** A third-party client with everything a page can show of it: name, home, logo, policy, terms. */
export const BRANDED_CLIENT = {
  client_id: 'rp-shop',
  client_secret: 'rp-shop-secret-0123456789abcdef0123456',
  redirect_uris: ['https://shop.example/cb'],
  client_name: 'Example Shop',
  client_uri: 'https://shop.example/',
  logo_uri: 'https://cdn.shop.example/logo.svg',
  policy_uri: 'https://shop.example/privacy',
  tos_uri: 'https://shop.example/terms',
} satisfies ClientMetadata;

/** A log that keeps its lines for assertions. */
export function memoryLogger(): OpLogger & { lines: { level: string; event: string; fields?: object }[] } {
  const lines: { level: string; event: string; fields?: object }[] = [];
  return {
    lines,
    info: (event, fields) => lines.push({ level: 'info', event, fields }),
    warn: (event, fields) => lines.push({ level: 'warn', event, fields }),
  };
}

/** What a test OP can be varied in. */
export interface TestOpOptions {
  readonly table: TestTable;
  readonly clients?: readonly ClientMetadata[];
  readonly secrets?: OpSecrets;
  readonly predecessors?: PredecessorSource;
  readonly logger?: OpLogger;
  /** RP hosts the OP may reach on private addresses (OpConfig.privateRpHosts). */
  readonly privateRpHosts?: readonly string[];
  /** Replaces parts of the storage (e.g. a challenge store with a test clock). */
  readonly storage?: (storage: OpStorage) => OpStorage;
  /** The reader-helper port the login page connects to (default 47123). */
  readonly helperPort?: number;
}

/** The OP configuration of a test OP at `issuer`. */
export async function testOpConfig(issuer: string, options: TestOpOptions): Promise<OpConfig> {
  const pki = await devPki();
  const trustAnchors = userAuthAnchors(pki);
  const revocation = new MemoryCrlSource(trustAnchors);
  for (const crl of pki.crls.filter(
    (entry) => entry.name.startsWith('user-auth') && entry.name.endsWith('.empty.crl'),
  )) {
    await revocation.load(crl.der);
  }
  const secrets = options.secrets ?? (await generateSecrets());
  const registry = new ClientRegistry(options.table);
  for (const metadata of options.clients ?? Object.values(TEST_CLIENTS)) await registry.put(metadata);
  const storage = dynamoStorage({
    ...options.table,
    certificateKeySecret: secrets.certificateKeySecret,
    predecessors: options.predecessors ?? NO_PREDECESSORS,
  });
  return {
    issuer,
    trustAnchors,
    revocation,
    secrets,
    storage: options.storage ? options.storage(storage) : storage,
    dev: true,
    privateRpHosts: options.privateRpHosts,
    logger: options.logger ?? memoryLogger(),
    ...(options.helperPort === undefined ? {} : { helperPort: options.helperPort }),
  };
}

/** Starts a test OP on 127.0.0.1, port 0; its issuer is its URL. */
export function startTestOp(options: TestOpOptions): Promise<OpServer> {
  return startOpServer({ config: (url) => testOpConfig(url, options) });
}
