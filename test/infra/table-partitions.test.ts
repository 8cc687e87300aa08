/**
 * The OP's role may write only in OP_WRITE_PARTITIONS, the CRL import role only in
 * CRL_IMPORT_PARTITIONS (dynamodb:LeadingKeys). This runs the real code on dynalite — the OP
 * through the flows that write (card logins, also with the raw-serial claim, code exchange,
 * refresh, revocation, a pushed authorization request), CrlStore through an import and a
 * re-import with a delta — records the partition key of every write request it sends (PutItem,
 * UpdateItem, DeleteItem, BatchWriteItem: what LeadingKeys is checked against) and checks each
 * lies inside its role's partitions, so a deployed role cannot refuse a write its code needs, and
 * that what each must never write (the OP: client registrations, revocation entries; the importer:
 * accounts, tokens, client registrations) stays outside. The revocation notification job likewise,
 * through a run that revokes a logged-in account and notifies its RP: its puts and updates in
 * NOTIFY_WRITE_PARTITIONS, its deletes in NOTIFY_DELETE_PARTITIONS, no BatchWriteItem. The "My
 * account" page too: its card sign-in, a withdrawal and an erasure (which deletes the account's
 * release history, logout queue items and revocation audit records: OP_DELETE_PARTITIONS).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import { issueCrl } from '../../dev-pki/issue.js';
import { X509CrlReason } from '../../dev-pki/x509.js';
import type { OpServer } from '../../functions/op/local-server.js';
import { RAW_SERIAL_SCOPE } from '../../functions/op/raw-serial.js';
import { CrlStore } from '../../functions/revocation/crl-store.js';
import {
  InProcessLogoutTokenSigner,
  registeredClients,
} from '../../functions/revocation/notification/logout-token-signer.js';
import { NotifyJob } from '../../functions/revocation/notification/notify-job.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { LogoutQueue } from '../../functions/storage/logout-queue.js';
import { RevocationAuditLog } from '../../functions/storage/revocation-audit.js';
import { CRL_IMPORT_PARTITIONS } from '../../infra/constructs/crl-import-role.js';
import {
  NOTIFY_DELETE_PARTITIONS,
  NOTIFY_TABLE_ACTIONS,
  NOTIFY_WRITE_PARTITIONS,
} from '../../infra/constructs/notify-function.js';
import { OP_DELETE_PARTITIONS, OP_WRITE_PARTITIONS } from '../../infra/constructs/op-function.js';
import { scanAll, type TestTable, useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import {
  type BrowserDocument,
  loginPageOf,
  postAnswer,
  relyingParty,
  rpLogin,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { memoryLogger, startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let table: TestTable;
let op: OpServer;
let card: VirtualCardSigner;

/** What `dynamodb:LeadingKeys` with StringLike does with `patterns`. */
function within(patterns: readonly string[], pk: string): boolean {
  return patterns.some((pattern) =>
    new RegExp(`^${pattern.replaceAll(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(pk),
  );
}
const allowed = (pk: string) => within(OP_WRITE_PARTITIONS, pk);
/** Whether the OP's role lets `request` through: deletes in OP_DELETE_PARTITIONS, the rest in OP_WRITE_PARTITIONS. */
const allowedRequest = ({ pk, deletes }: WriteRequest) =>
  deletes ? within(OP_DELETE_PARTITIONS, pk) : allowed(pk);

/** The OP's write requests (recordWrites). */
let written: WriteRequest[];

type PartitionKey = { pk?: { S?: string } };
type WriteInput = {
  TableName?: string;
  Item?: PartitionKey;
  Key?: PartitionKey;
  RequestItems?: Record<
    string,
    { PutRequest?: { Item?: PartitionKey }; DeleteRequest?: { Key?: PartitionKey } }[]
  >;
};

/** The partition keys `command` writes in `tableName`, each with whether it deletes there. */
function partitionsOf(
  command: string,
  input: WriteInput,
  tableName: string,
): { pk: string; deletes: boolean }[] {
  if (command === 'BatchWriteItemCommand') {
    return (input.RequestItems?.[tableName] ?? []).map((request) => ({
      pk: (request.PutRequest?.Item ?? request.DeleteRequest?.Key)?.pk?.S ?? '?',
      deletes: request.DeleteRequest !== undefined,
    }));
  }
  if (input.TableName !== tableName) return [];
  if (command === 'PutItemCommand') return [{ pk: input.Item?.pk?.S ?? '?', deletes: false }];
  if (command === 'UpdateItemCommand' || command === 'DeleteItemCommand') {
    return [{ pk: input.Key?.pk?.S ?? '?', deletes: command === 'DeleteItemCommand' }];
  }
  return [];
}

/** One write request: its command, the partition key it writes, and whether it deletes. */
interface WriteRequest {
  readonly command: string;
  readonly pk: string;
  readonly deletes: boolean;
}

/** Records every write request to `table` sent from now on (tables share a client). */
function recordWrites(table: TestTable): WriteRequest[] {
  const keys: WriteRequest[] = [];
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      for (const { pk, deletes } of partitionsOf(command, args.input as WriteInput, table.tableName))
        keys.push({ command, pk, deletes });
      return next(args);
    },
    { step: 'initialize', name: `recordWrites:${table.tableName}` },
  );
  return keys;
}

/** Writes a CRL of `ca` (number `crlNumber`, issued an hour before `now`) listing `entries`. */
async function writeCrl(
  path: string,
  ca: DevIdentity['userAuthCa'],
  crlNumber: number,
  entries: readonly { serialHex: string }[],
  now: Date,
): Promise<void> {
  const thisUpdate = new Date(now.getTime() - 3_600_000);
  await writeFile(
    path,
    await issueCrl({
      ca,
      thisUpdate,
      nextUpdate: new Date(now.getTime() + 86_400_000),
      crlNumber,
      entries: entries.map(({ serialHex }) => ({
        serialHex,
        revokedAt: thisUpdate,
        reason: X509CrlReason.superseded,
      })),
    }),
  );
}

const never = () => false;

/** A page a navigation ended on, with its HTML. */
async function shown(step: { response?: Response; document?: BrowserDocument; url: URL }) {
  if (!step.response || !step.document) throw new Error(`the navigation stopped at ${step.url.href}`);
  return { document: step.document, html: await step.response.text() };
}

/** Opens the "My account" page in `browser`, signing in with the card as its login page's script does. */
async function accountPage(browser: TestBrowser) {
  const login = await loginPageOf(await browser.navigate(`${op.url}/account`, never));
  const reply = await postAnswer(browser, login, await card.sign(login.document.url.origin, login.nonce));
  if (!reply.redirectTo) throw new Error(`login refused: ${JSON.stringify(reply)}`);
  return shown(
    await browser.navigate(new URL(reply.redirectTo, login.document.url), never, {
      by: 'script',
      document: login.document,
    }),
  );
}

/** Submits the page's form to `/account/<action>` holding `marker`, with its hidden fields and `extra`. */
async function submitAccountForm(
  browser: TestBrowser,
  page: { document: BrowserDocument; html: string },
  action: string,
  marker: string,
  extra: Record<string, string> = {},
) {
  const form = [...page.html.matchAll(/<form\b[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].find(
    (match) => match[1] === `/account/${action}` && (match[2] as string).includes(marker),
  );
  if (!form) throw new Error(`no form posting to /account/${action} with ${marker}`);
  const hidden = [...(form[2] as string).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)];
  const fields = Object.fromEntries(
    hidden.map((field) => [field[1], (field[2] as string).replace(/&amp;/g, '&')]),
  );
  return shown(await browser.submitForm(page.document, `/account/${action}`, { ...fields, ...extra }, never));
}

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  table = await newTable();
  // Client registrations are the operator CLI's writes, made before the OP serves a request.
  op = await startTestOp({ table });
  written = recordWrites(table);
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

describe('the OP writes only in its partitions', () => {
  it('sends every write of logins, tokens, refresh and revocation inside OP_WRITE_PARTITIONS', async () => {
    const A = TEST_CLIENTS.firstParty;
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    const browser = new TestBrowser();
    const { tokens } = await rpLogin({ rp, browser, card, redirectUri: A.redirect_uris[0] as string });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token as string);
    await client.tokenRevocation(rp, refreshed.access_token);
    await client
      .fetchUserInfo(rp, tokens.access_token, tokens.claims()?.sub as string)
      .catch(() => undefined);

    // A pushed authorization request (PAR is enabled).
    await client.buildAuthorizationUrlWithPAR(rp, {
      redirect_uri: A.redirect_uris[0] as string,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });

    const S = TEST_CLIENTS.rawSerial;
    const serialRp = await relyingParty({
      issuer: op.url,
      clientId: S.client_id,
      clientSecret: S.client_secret,
    });
    await rpLogin({
      rp: serialRp,
      browser: new TestBrowser(),
      card,
      redirectUri: S.redirect_uris[0] as string,
      scope: `openid ${RAW_SERIAL_SCOPE}`,
    });

    const kinds = new Set(written.map(({ pk }) => pk.split('#')[0]));
    // The flows above did write (the check is not vacuous).
    for (const kind of [
      'Session',
      'Grant',
      'Interaction',
      'AuthorizationCode',
      'AccessToken',
      'RefreshToken',
      'ACCOUNT',
      'CERT',
      'AccountRef',
      'MynaSealedClaims',
      'PushedAuthorizationRequest',
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(written.filter(({ pk }) => !allowed(pk))).toEqual([]);
  });

  it('sends every write of the account page (sign-in, withdraw, erasure) inside its partitions', async () => {
    const A = TEST_CLIENTS.firstParty;
    const rp = await relyingParty({ issuer: op.url, clientId: A.client_id, clientSecret: A.client_secret });
    await rpLogin({ rp, browser: new TestBrowser(), card, redirectUri: A.redirect_uris[0] as string });
    const account = (await scanAll(table)).find((item) => String(item.pk).startsWith('ACCOUNT#'));
    const accountId = String(account?.accountId);
    const [certificateKey] = Object.keys((account?.certificates ?? {}) as object);
    // What the revocation job and RP-initiated logout left about the account, written through
    // another client (not the OP's writes): erasure deletes them.
    const job = { client: createDynamoClient({ endpoint: table.endpoint }), tableName: table.tableName };
    await new RevocationAuditLog(job).open(String(certificateKey), {
      accountId,
      caId: 'ca',
      reason: 'keyCompromise',
      revokedAt: new Date(),
      detectedAt: new Date(),
    });
    await new LogoutQueue(job).enqueue(
      {
        id: 'logout:sid-x#rp-a',
        clientId: A.client_id,
        uri: 'https://rp-a.example/bc',
        alg: 'RS256',
        accountId,
      },
      new Date(),
    );
    const from = written.length;

    const browser = new TestBrowser(undefined, { 'accept-language': 'en' });
    const page = await accountPage(browser);
    const withdrawn = await submitAccountForm(browser, page, 'withdraw', `value="${A.client_id}"`);
    const confirm = await shown(await browser.navigate(new URL('/account/delete', op.url), never));
    const deleted = await submitAccountForm(browser, confirm, 'delete', '', { confirm: 'yes' });
    expect([withdrawn.document.url.pathname, deleted.document.url.pathname]).toEqual([
      '/account',
      '/account/deleted',
    ]);

    const requests = written.slice(from);
    const kinds = (deletes: boolean) =>
      new Set(requests.filter((request) => request.deletes === deletes).map(({ pk }) => pk.split('#')[0]));
    // The run did write and delete what the account page does (the check is not vacuous).
    expect([...kinds(false)]).toEqual(expect.arrayContaining(['MynaAccountSession', 'Grant', 'Session']));
    expect([...kinds(true)]).toEqual(
      expect.arrayContaining([
        'ReleaseHistory',
        'BackchannelLogout',
        'RevocationAudit',
        'Grant',
        'ACCOUNT',
        'CERT',
      ]),
    );
    expect(requests.filter((request) => !allowedRequest(request))).toEqual([]);
    // The OP may delete an audit record, never write one.
    expect(requests.filter(({ pk, deletes }) => pk === 'RevocationAudit' && !deletes)).toEqual([]);
  });

  it("cannot write client registrations, revocation entries, CRL state or the job's records", () => {
    for (const pk of [
      'Client',
      'REVOKED#key',
      'CRL#scope',
      'CRLSNAP#scope@1',
      'CRLFEED',
      'RevocationAudit',
      'RevocationNotice',
    ]) {
      expect(allowed(pk)).toBe(false);
    }
  });
});

describe('CRL import writes only the revocation partitions', () => {
  it('sends every write of an import and of a re-import with a delta inside CRL_IMPORT_PARTITIONS', async () => {
    const pki = await devPki();
    const [, , revoked] = pki.identities as [DevIdentity, DevIdentity, DevIdentity];
    const dir = await mkdtemp(join(tmpdir(), 'myna-crl-partitions-'));
    try {
      const crlTable = await newTable();
      const keys = recordWrites(crlTable);
      const store = new CrlStore(crlTable);
      const secret = randomBytes(32);
      const now = new Date();
      const crl = async (crlNumber: number, entries: { serialHex: string }[]) => {
        const path = join(dir, `${crlNumber}.crl`);
        await writeCrl(path, revoked.userAuthCa, crlNumber, entries, now);
        return store.importFile(path, { anchors: userAuthAnchors(pki), secret, now });
      };
      await crl(1, [revoked.userAuth]);
      await crl(2, []);
      const kinds = new Set(keys.map(({ pk }) => pk.split('#')[0]));
      for (const kind of ['REVOKED', 'CRL', 'CRLSNAP', 'CRLFEED']) expect(kinds).toContain(kind);
      expect(keys.filter(({ pk }) => !within(CRL_IMPORT_PARTITIONS, pk))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cannot write accounts, tokens, sessions or client registrations', () => {
    for (const pk of [
      'Client',
      'ACCOUNT#a',
      'CERT#k',
      'Session#s',
      'Grant#g',
      'AccessToken#t',
      'RevocationAudit',
    ]) {
      expect(within(CRL_IMPORT_PARTITIONS, pk)).toBe(false);
    }
  });
});

describe('the notification job writes only in its partitions', () => {
  it('puts and updates inside NOTIFY_WRITE_PARTITIONS, deletes inside NOTIFY_DELETE_PARTITIONS, batches nothing', async () => {
    const pki = await devPki();
    const alice = pki.identities[0] as DevIdentity;
    const rpEndpoint = createServer((request, response) => {
      request.resume().on('end', () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => rpEndpoint.listen(0, '127.0.0.1', resolve));
    const rpUrl = `http://127.0.0.1:${(rpEndpoint.address() as AddressInfo).port}`;
    const dir = await mkdtemp(join(tmpdir(), 'myna-notify-partitions-'));
    const jobTable = await newTable();
    const secrets = await generateSecrets();
    const metadata = {
      client_id: 'notify-partitions',
      client_secret: 'notify-partitions-secret-0123456789abcdef0123456789',
      redirect_uris: ['https://notify-partitions.example/cb'],
      backchannel_logout_uri: `${rpUrl}/logout`,
      myna_first_party: true,
    };
    const jobOp = await startTestOp({
      table: jobTable,
      clients: [metadata],
      secrets,
      logger: memoryLogger(),
      privateRpHosts: ['127.0.0.1'],
    });
    try {
      const rp = await relyingParty({
        issuer: jobOp.url,
        clientId: metadata.client_id,
        clientSecret: metadata.client_secret,
      });
      await rpLogin({
        rp,
        browser: new TestBrowser(),
        card,
        redirectUri: metadata.redirect_uris[0] as string,
      });
      const now = new Date();
      const path = join(dir, 'alice.crl');
      await writeCrl(path, alice.userAuthCa, 1, [alice.userAuth], now);
      await new CrlStore(jobTable).importFile(path, {
        anchors: userAuthAnchors(pki),
        secret: secrets.certificateKeySecret,
        now,
      });

      const writes = recordWrites(jobTable);
      const summary = await new NotifyJob({
        ...jobTable,
        issuer: jobOp.url,
        secrets,
        signer: new InProcessLogoutTokenSigner({
          issuer: jobOp.url,
          secrets,
          findClient: registeredClients(new ClientRegistry(jobTable)),
        }),
        logger: memoryLogger(),
        privateRpHosts: ['127.0.0.1'],
      }).run();
      expect(summary).toMatchObject({ certificatesRevoked: 1, delivered: 1 });

      const actions = new Set<string>(NOTIFY_TABLE_ACTIONS);
      for (const { command } of writes)
        expect(actions).toContain(`dynamodb:${command.replace(/Command$/, '')}`);
      const deletes = writes.filter(({ command }) => command === 'DeleteItemCommand');
      const others = writes.filter(({ command }) => command !== 'DeleteItemCommand');
      // The run did write (the check is not vacuous): its records, the account, what it revoked.
      expect(new Set(others.map(({ pk }) => pk.split('#')[0]))).toEqual(
        new Set(['RevocationAudit', 'BackchannelLogout', 'ACCOUNT']),
      );
      for (const kind of ['Grant', 'Session', 'RefreshToken', 'AccessToken', 'CRLFEED']) {
        expect(new Set(deletes.map(({ pk }) => pk.split('#')[0]))).toContain(kind);
      }
      expect(others.filter(({ pk }) => !within(NOTIFY_WRITE_PARTITIONS, pk))).toEqual([]);
      expect(deletes.filter(({ pk }) => !within(NOTIFY_DELETE_PARTITIONS, pk))).toEqual([]);
    } finally {
      await jobOp.close();
      await new Promise((resolve) => rpEndpoint.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
