/**
 * The whole product on one machine: dynalite (in-process, persisted in the data folder), the OP,
 * the demo relying party and the reader-helper with a virtual card (or real PC/SC readers).
 * `npm start` runs it; the end-to-end browser test starts it with its own ports and card backend.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_RP_BACKCHANNEL_PATH, startDemoRp } from '../demo-rp/server.js';
import { readerWithVirtualCard } from '../dev-card/virtual-card-tools.js';
import { FilePredecessorSource } from '../functions/accounts/file-predecessor-source.js';
import { DEFAULT_TABLE_NAME } from '../functions/defaults.js';
import type { OpLogger } from '../functions/log/logger.js';
import { FIRST_PARTY_FLAG } from '../functions/op/client-flags.js';
import { dynamoStorage } from '../functions/op/dynamo-storage.js';
import { type OpServer, startOpServer } from '../functions/op/local-server.js';
import { loadLocalSecrets } from '../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../functions/storage/client-registry.js';
import { startLocalDynamo } from '../functions/storage/local-dynamodb.js';
import { ensureTable } from '../functions/storage/table.js';
import { CardService } from '../reader-helper/card/card-service.js';
import type { ReaderBackend } from '../reader-helper/card/reader-backend.js';
import { type HelperDaemon, startHelperDaemon } from '../reader-helper/daemon/server.js';
import { createLogger, type Logger } from '../reader-helper/log.js';
import { createPinEntry, type PinEntry } from '../reader-helper/pin-entry/pin-entry.js';
import { loadIdentity } from '../reader-helper/virtual-card/identity.js';
import { loadDevTrust } from './dev-trust.js';
import { httpTransportFrom } from './scripted-login.js';

export const LOCAL_TABLE_NAME = DEFAULT_TABLE_NAME;
export const DEMO_CLIENT_ID = 'demo-rp';
export const VIRTUAL_READER = 'Local virtual reader';

export interface LocalStackOptions {
  readonly dataDir: string;
  readonly opPort: number;
  readonly rpPort: number;
  /** The local DynamoDB's port (so `myna-oidc clients --endpoint` can reach it); 0 picks one. */
  readonly dynamoPort: number;
  /** The helper's port (the login page connects to it). */
  readonly helperPort: number;
  /** Run the helper (default true); false shows the login page's "helper not running" guidance. */
  readonly runHelper?: boolean;
  /** Readers for the helper: the in-process virtual card of identity `alice` (default) or another backend. */
  readonly readers?: ReaderBackend;
  /** Where the helper asks for the PIN (default: this desktop's PIN window, `createPinEntry()`). */
  readonly pinEntry?: PinEntry;
  /** The helper's log (default: JSON lines at info on stderr). */
  readonly helperLogger?: Logger;
  /** The OP's log (default: JSON lines on stderr). */
  readonly opLogger?: OpLogger;
  /** Serve the OP over https as `https://<hostName>:<opPort>` (tests: a site on a public address); default http://localhost. */
  readonly https?: LocalStackHttps;
  readonly log: (line: string) => void;
}

/** Where and with which certificate the OP serves https (PEM key, certificate and the CA the demo RP trusts). */
export interface LocalStackHttps {
  /** The issuer's host name, e.g. login.test. */
  readonly hostName: string;
  /** The address the OP listens on and the demo RP connects to for `hostName`, e.g. 127.0.0.2. */
  readonly address: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer;
}

export interface LocalStack {
  readonly opUrl: string;
  readonly rpUrl: string;
  readonly dynamoEndpoint: string;
  readonly helperUrl: string | undefined;
  /** The virtual card's PIN when the stack made the card. */
  readonly pin: string | undefined;
  /** The helper's PIN window, when the stack runs the helper. */
  readonly pinEntry: PinEntry | undefined;
  readonly identityDir: string;
  readonly pkiDir: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** Starts every piece; on a failure part-way, stops what had started and rethrows. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    await mkdir(options.dataDir, { recursive: true });
    const trust = await loadDevTrust(join(options.dataDir, 'pki'), options.log);
    const identityDir = join(trust.pkiDir, 'identities', 'alice');

    const dynamo = await startLocalDynamo({
      path: join(options.dataDir, 'dynamo'),
      port: options.dynamoPort,
    });
    closers.push(() => dynamo.close());
    await ensureTable(dynamo.client, LOCAL_TABLE_NAME);

    const { https } = options;
    const issuer = https
      ? `https://${https.hostName}:${options.opPort}`
      : `http://localhost:${options.opPort}`;
    const rpBase = `http://localhost:${options.rpPort}`;
    const clientSecret = await demoClientSecret(options.dataDir);
    await new ClientRegistry({ client: dynamo.client, tableName: LOCAL_TABLE_NAME }).put({
      client_id: DEMO_CLIENT_ID,
      client_secret: clientSecret,
      redirect_uris: [`${rpBase}/callback`],
      post_logout_redirect_uris: [`${rpBase}/`],
      backchannel_logout_uri: `${rpBase}${DEMO_RP_BACKCHANNEL_PATH}`,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      [FIRST_PARTY_FLAG]: true,
    });

    const secrets = await loadLocalSecrets(options.dataDir);
    const op: OpServer = await startOpServer({
      port: options.opPort,
      ...(https ? { host: https.address, tls: https } : {}),
      config: {
        issuer,
        dev: true,
        trustAnchors: trust.trustAnchors,
        // Identity verification with the development signing CA and link file (issue #14).
        signingTrustAnchors: trust.signingTrustAnchors,
        identity: { links: trust.links },
        revocation: trust.revocation,
        secrets,
        storage: dynamoStorage({
          client: dynamo.client,
          tableName: LOCAL_TABLE_NAME,
          certificateKeySecret: secrets.certificateKeySecret,
          predecessors: new FilePredecessorSource(join(options.dataDir, 'predecessors.json')),
        }),
        helperPort: options.helperPort,
        ...(options.opLogger ? { logger: options.opLogger } : {}),
        // The demo RP is on localhost: let the OP's back-channel logout reach it.
        privateRpHosts: [new URL(rpBase).hostname],
      },
    });
    closers.push(() => op.close());

    const rp = await startDemoRp({
      issuer,
      clientId: DEMO_CLIENT_ID,
      clientSecret,
      baseUrl: rpBase,
      port: options.rpPort,
      ...(https
        ? { transport: httpTransportFrom({ ca: https.ca, hosts: { [https.hostName]: https.address } }) }
        : { allowInsecureRequests: true }),
    });
    closers.push(() => new Promise<void>((resolve) => rp.server.close(() => resolve())));

    let helper: HelperDaemon | undefined;
    let pin: string | undefined;
    let pinEntry: PinEntry | undefined;
    if (options.runHelper !== false) {
      let readers = options.readers;
      if (!readers) {
        const identity = await loadIdentity(identityDir);
        readers = readerWithVirtualCard(VIRTUAL_READER, identity);
        pin = identity.userAuthPin;
      }
      const cards = new CardService(readers);
      closers.push(() => cards.close());
      pinEntry = options.pinEntry ?? createPinEntry();
      // The OP's own login page (http://localhost or the https issuer); development mode (any
      // http://localhost page) only with the virtual card: with PC/SC readers, where a real card
      // may be, only the OP's page is allowed.
      helper = await startHelperDaemon({
        cards,
        port: options.helperPort,
        allowedOrigins: [new URL(issuer).origin],
        dev: cards.virtual,
        helperVersion: 'local',
        logger: options.helperLogger ?? createLogger(),
        pinEntry,
      });
      closers.push(() => (helper as HelperDaemon).close());
    }
    return {
      opUrl: issuer,
      rpUrl: rp.url,
      dynamoEndpoint: dynamo.endpoint,
      helperUrl: helper?.addresses[0],
      pin,
      pinEntry,
      identityDir,
      pkiDir: trust.pkiDir,
      dataDir: options.dataDir,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The demo RP's client secret, generated once and kept in the data folder. */
async function demoClientSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'demo-rp-secret');
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
