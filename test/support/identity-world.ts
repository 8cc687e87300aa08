/**
 * The world of the identity-verification end-to-end tests: a test OP on dynalite that trusts the
 * development PKI's user-auth CAs and its signing CA (their CRLs list `revoked`'s certificates
 * and `moved`'s old signing certificate), knows which signing certificate belongs to which user-auth
 * certificate (a development link file), and logs into memory; the reader-helper in-process with
 * one virtual reader the tests put cards into, its real PIN window (zenity on a private Xvfb,
 * answered through xdotool) and its log kept; Debian's Chromium; and relying parties that ask
 * with openid-client, their redirect URIs answered inside the browser. Nothing a browser or an RP
 * library sets is set by hand.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  createDevIdentity,
  DEV_FACT_VARIANTS,
  type DevIdentity,
  type DevPki,
  devCertificateLinks,
} from '../../dev-pki/hierarchy.js';
import {
  certificateLinkFileText,
  FileCertificateLinkSource,
} from '../../functions/jpki/certificate-links.js';
import { combineTrustAnchors, loadTrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { type Locale, type MessageKey, message } from '../../functions/op/login-page/messages.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { createLogger } from '../../reader-helper/log.js';
import type { PinEntry, PinRequest } from '../../reader-helper/pin-entry/pin-entry.js';
import { type CardIdentity, cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import type { SimulatedCard } from '../../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import type { TestTable } from '../storage/local-table.js';
import { launchChromium, startVirtualHelper, type VirtualHelper } from './browser.js';
import { devPki, userAuthAnchors } from './dev-pki.js';
import { type AuthorizationChecks, authorizationRequest, relyingParty } from './oidc-flow.js';
import { memoryLogger, testOpConfig } from './op-stack.js';
import type { PinDialogUser } from './pin-dialog-user.js';

/** The people whose cards the tests use. */
export interface IdentityPeople {
  readonly pki: DevPki;
  /** Born 1990-01-01 in Tokyo (dev-pki's default facts). */
  readonly alice: DevIdentity;
  /** Another person (a card of the older user-auth CA). */
  readonly bob: DevIdentity;
  /** alice's card with the signing certificate from before she moved: revoked (affiliationChanged). */
  readonly moved: DevIdentity;
  /** alice's user-auth certificate with bob's signing certificate: a signing certificate of another card. */
  readonly otherCard: DevIdentity;
  /** A name and an address in kanji outside everyday use, written in the certificate as they are. */
  readonly kanji: DevIdentity;
  /** 渡辺 written for a registered 渡邉, 葛 of 葛飾区 a substitute (DEV_FACT_VARIANTS.substitutes). */
  readonly substitutes: DevIdentity;
}

/** Facts with characters a careless encoder breaks: a surrogate pair, 異体字, a full-width space. */
export const KANJI_FACTS = {
  name: '𠮷野　髙子',
  birthDate: '420000229',
  gender: '2',
  address: '大阪府大阪市北区梅田一丁目𠀋番地の十二　髙島屋ビル',
} as const;

/** The development PKI of this test file, and two more cards: KANJI_FACTS and DEV_FACT_VARIANTS.substitutes. */
export async function identityPeople(): Promise<IdentityPeople> {
  const pki = await devPki();
  const person = (label: string): DevIdentity => {
    const found = pki.identities.find((identity) => identity.label === label);
    if (!found) throw new Error(`the development PKI has no identity ${label}`);
    return found;
  };
  const card = (label: string, facts: DevIdentity['facts']) =>
    createDevIdentity({
      label,
      userAuthCa: pki.userAuthCas[1],
      signingCa: pki.signingCa,
      now: new Date(),
      facts,
    });
  return {
    pki,
    alice: person('alice'),
    bob: person('bob'),
    moved: person('moved'),
    otherCard: person('other-card'),
    kanji: await card('kanji', KANJI_FACTS),
    substitutes: await card('substitutes', DEV_FACT_VARIANTS.substitutes),
  };
}

/** The running world. */
export interface IdentityWorld {
  readonly issuer: string;
  readonly helper: VirtualHelper;
  /** Every line the OP logged. */
  readonly opLog: ReturnType<typeof memoryLogger>;
  /** Every line the helper logged (debug and up). */
  readonly helperLog: readonly string[];
  /** Every PIN window the helper opened (what it asked for, for which purpose), in order. */
  readonly pinRequests: readonly PinRequest[];
  /** Takes the card out of the helper's reader and puts `card` in. */
  insert(card: SimulatedCard | CardIdentity): void;
  /** An RP of the OP through openid-client. */
  relyingParty(metadata: ClientMetadata): Promise<client.Configuration>;
  /** A fresh browser context (own cookies; English pages unless `locale` says otherwise). */
  newContext(locale?: string): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Records each PIN request the real window is given (the window still opens and is answered). */
function recordingPinEntry(real: PinEntry, requests: PinRequest[]): PinEntry {
  return {
    kind: real.kind,
    requestPin: (request) => {
      requests.push(request);
      return real.requestPin(request);
    },
    confirmLastTry: (request) => real.confirmLastTry(request),
    showPinPadNotice: (request, options) => real.showPinPadNotice(request, options),
    ...(real.unavailable ? { unavailable: () => real.unavailable?.() } : {}),
  };
}

/** Starts helper, OP and Chromium for `people` with `clients` registered; stops what started on a failure. */
export async function startIdentityWorld(options: {
  readonly table: TestTable;
  readonly people: IdentityPeople;
  readonly clients: readonly ClientMetadata[];
  /** RP hosts on loopback the OP may reach (back-channel logout of the interop RPs). */
  readonly privateRpHosts?: readonly string[];
}): Promise<IdentityWorld> {
  const { people, table } = options;
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const helperLog: string[] = [];
    const pinRequests: PinRequest[] = [];
    const helper = await startVirtualHelper({
      identity: cardIdentityOf(people.alice),
      logger: createLogger({ level: 'debug', write: (line) => helperLog.push(line) }),
      observePinEntry: (real) => recordingPinEntry(real, pinRequests),
    });
    closers.push(() => helper.close());

    const linkDir = await mkdtemp(join(tmpdir(), 'myna-identity-links-'));
    closers.push(() => rm(linkDir, { recursive: true, force: true }));
    const linkFile = join(linkDir, 'certificate-links.json');
    const { alice, bob, moved, otherCard, kanji, substitutes } = people;
    await writeFile(
      linkFile,
      certificateLinkFileText(devCertificateLinks([alice, bob, moved, otherCard, kanji, substitutes])),
    );

    const opLog = memoryLogger();
    const userAuth = userAuthAnchors(people.pki);
    const signingTrustAnchors = loadTrustAnchors([people.pki.signingCa.der]);
    const revocation = new MemoryCrlSource(combineTrustAnchors(userAuth, signingTrustAnchors));
    // The CRLs that list revoked certificates, of every CA (the user-auth one lists `revoked`).
    for (const crl of people.pki.crls.filter(({ name }) => name.endsWith('.revoked.crl'))) {
      await revocation.load(crl.der);
    }
    const server: OpServer = await startOpServer({
      config: async (url) => ({
        ...(await testOpConfig(url, {
          table,
          clients: options.clients,
          logger: opLog,
          helperPort: helper.port,
          privateRpHosts: options.privateRpHosts,
        })),
        trustAnchors: userAuth,
        revocation,
        signingTrustAnchors,
        identity: { links: new FileCertificateLinkSource(linkFile, { authoritative: true }) },
      }),
    });
    closers.push(() => server.close());

    const browser: Browser = await launchChromium();
    closers.push(() => browser.close());
    const secrets = new Map(options.clients.map((metadata) => [metadata.client_id, metadata.client_secret]));
    return {
      issuer: server.url,
      helper,
      opLog,
      helperLog,
      pinRequests,
      insert: (card) => {
        helper.reader.remove();
        helper.reader.insert('transmit' in card ? card : new VirtualJpkiCard(card));
      },
      relyingParty: (metadata) =>
        relyingParty({
          issuer: server.url,
          clientId: metadata.client_id,
          clientSecret: secrets.get(metadata.client_id),
        }),
      newContext: (locale = 'en-US') => browser.newContext({ locale }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What an RP got at the end of a flow: the validated ID token claims and userinfo. */
export interface RpResult {
  readonly idToken: Record<string, unknown>;
  readonly userinfo: Record<string, unknown>;
}

/**
 * One authorization request of an RP in a fresh browser context: the browser goes to the OP's
 * authorization endpoint; the RP's redirect URI is answered inside the browser and the callback
 * URL kept, which the RP (openid-client, its own requests to the OP) then redeems.
 */
export class RpFlow {
  readonly callbacks: URL[] = [];

  private constructor(
    readonly page: Page,
    private readonly rp: client.Configuration,
    private readonly checks: AuthorizationChecks,
  ) {}

  /** Starts in `page` (a fresh context's: the flow closes the context). */
  static async start(
    page: Page,
    rp: client.Configuration,
    redirectUri: string,
    params: Record<string, string>,
  ): Promise<RpFlow> {
    const context = page.context();
    const { url, checks } = await authorizationRequest(rp, redirectUri, params);
    const flow = new RpFlow(page, rp, checks);
    await context.route(`${new URL(redirectUri).origin}/**`, (route) => {
      flow.callbacks.push(new URL(route.request().url()));
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>RP</h1>' });
    });
    await page.goto(url.href);
    await page.waitForURL(/\/interaction\//);
    return flow;
  }

  /** Waits until the browser is back at the RP; on a timeout the error says what the page shows. */
  async backAtRp(timeoutMs = 20_000): Promise<URL> {
    const deadline = Date.now() + timeoutMs;
    while (this.callbacks.length === 0) {
      if (Date.now() > deadline) {
        const shown =
          (await this.page
            .locator('body')
            .textContent()
            .catch(() => '')) ?? '';
        throw new Error(
          `still at ${this.page.url()}, which shows: ${shown.replace(/\s+/g, ' ').slice(0, 400)}`,
        );
      }
      await this.page.waitForTimeout(50);
    }
    return this.callbacks[0] as URL;
  }

  /** The RP redeems the code (openid-client checks state, PKCE, nonce, the ID token) and calls userinfo. */
  async redeem(): Promise<RpResult> {
    const callback = await this.backAtRp();
    const tokens = await client.authorizationCodeGrant(this.rp, callback, {
      ...this.checks,
      idTokenExpected: true,
    });
    const idToken = tokens.claims() as Record<string, unknown>;
    const userinfo = (await client.fetchUserInfo(
      this.rp,
      tokens.access_token,
      idToken.sub as string,
    )) as Record<string, unknown>;
    return { idToken, userinfo };
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}

/** The language of the OP's pages a step reads (default English). */
interface PageLanguage {
  readonly locale?: Locale;
}

const textIn = (options: PageLanguage) => (key: MessageKey) => message(options.locale ?? 'en', key);

/**
 * What a person does on the identity step: press "Verify identity with the signing certificate"
 * (or, after a failed try, "Try again") and type `password` into the helper's PIN window once it
 * opens.
 */
export async function verifyIdentityWithHelperWindow(
  page: Page,
  person: PinDialogUser,
  password: string,
  options: PageLanguage & { readonly button?: 'start' | 'retry' } = {},
): Promise<void> {
  const label = textIn(options)(options.button === 'retry' ? 'retry' : 'identityStart');
  // On the navigation path the click leads to the helper's page, which the helper holds while
  // the person types: the click must not wait for that navigation.
  await page.getByRole('button', { name: label, exact: true }).click({ timeout: 20_000, noWaitAfter: true });
  await person.enterPin(password, { timeoutMs: 20_000 });
}

/** One claim on the identity consent page, as the person sees it. */
export interface ConsentRow {
  /** What the claim is ("Name", "Over 20"…). */
  readonly label: string;
  /** The exact value that would be shared. */
  readonly value: string;
  readonly required: boolean;
  readonly checked: boolean;
  /** The page says the value holds a substitute character (代替文字). */
  readonly substituted: boolean;
}

/**
 * The claims the identity consent page shows, once it shows (within `waitMs`, default 20 s; 0:
 * now); [] when the page is not the consent page.
 */
export async function consentRows(
  page: Page,
  options: PageLanguage & { readonly waitMs?: number } = {},
): Promise<ConsentRow[]> {
  const t = textIn(options);
  const share = page.getByRole('button', { name: t('identityConsentAllow'), exact: true });
  const waitMs = options.waitMs ?? 20_000;
  if (waitMs > 0) await share.waitFor({ timeout: waitMs }).catch(() => undefined);
  const form = page.locator('form', { has: share });
  if ((await form.count()) === 0) return [];
  const rows: ConsentRow[] = [];
  for (const item of await form.locator('li.claim').all()) {
    const box = item.getByRole('checkbox');
    rows.push({
      label: ((await item.locator('.claim-label').textContent()) ?? '').trim(),
      value: (await item.locator('.claim-value').textContent()) ?? '',
      required: await box.isDisabled(),
      checked: await box.isChecked(),
      substituted: ((await item.textContent()) ?? '').includes(t('identityConsentSubstituted')),
    });
  }
  return rows;
}

/** Unticks the optional claims whose label matches one of `untick`, then shares what is ticked. */
export async function shareOnConsentPage(
  page: Page,
  options: PageLanguage & { readonly untick?: readonly RegExp[] } = {},
): Promise<void> {
  const share = page.getByRole('button', { name: textIn(options)('identityConsentAllow'), exact: true });
  await share.waitFor({ timeout: 20_000 });
  for (const label of options.untick ?? []) await page.getByRole('checkbox', { name: label }).uncheck();
  await share.click();
}
