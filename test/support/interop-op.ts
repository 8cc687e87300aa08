/**
 * The OP side of the interop tests (test/interop): a test OP on 127.0.0.1 with the given clients
 * registered through the ClientRegistry, the reader-helper in-process with alice's virtual card
 * (no shared pcscd), Debian's Chromium, and the steps a person does on the OP's pages. Every RP
 * runs on its own loopback address (127.0.0.2, .3, …) so cookies and pairwise sectors never mix.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPair, SignJWT } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { BrowserContext, Page } from 'playwright-core';
import { startOpServer } from '../../functions/op/local-server.js';
import { type MessageKey, message } from '../../functions/op/login-page/messages.js';
import type { TestTable } from '../storage/local-table.js';
import { launchChromium, signInWithHelperWindow, startVirtualHelper } from './browser.js';
import { aliceCard } from './card.js';
import { testOpConfig } from './op-stack.js';
import type { PinDialogUser } from './pin-dialog-user.js';

/** The person at the helper's PIN window, for each browser context an interop OP opened. */
const peopleAt = new WeakMap<BrowserContext, PinDialogUser>();

/** Raised by {@link step}: names the RP software and the step that failed. */
export class InteropStepError extends Error {
  override name = 'InteropStepError';
  constructor(
    readonly software: string,
    readonly step: string,
    cause: unknown,
  ) {
    super(`${software}: ${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * Polls `check` until it returns true, for at most `timeoutMs`: for effects the OP delivers on its
 * own schedule (a back-channel logout may be queued and retried).
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
  return true;
}

/** Runs one step of an RP's flow; a failure says which RP software and which step. */
export async function step<T>(software: string, name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new InteropStepError(software, name, error);
  }
}

/** A running interop OP with its helper and browser. */
export interface InteropOp {
  /** The issuer (http://127.0.0.1:PORT): the only thing an RP is configured with, plus its client. */
  readonly issuer: string;
  /** The account id the last authorization code for `clientId` was issued to. */
  accountOf(clientId: string): string | undefined;
  /** A fresh browser context (own cookies), English pages. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Options of startInteropOp. */
export interface InteropOpOptions {
  readonly table: TestTable;
  readonly clients: readonly ClientMetadata[];
  /** RP hosts on loopback that back-channel logout may POST to (the OP's private-RP allow-list). */
  readonly privateRpHosts: readonly string[];
}

/** Starts helper, OP and Chromium; on a failure part-way, stops what had started. */
export async function startInteropOp(options: InteropOpOptions): Promise<InteropOp> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const helper = await startVirtualHelper({ identity: (await aliceCard()).identity });
    closers.push(() => helper.close());

    const server = await startOpServer({
      config: async (url) => ({
        ...(await testOpConfig(url, { table: options.table, clients: options.clients })),
        helperPort: helper.port,
        privateRpHosts: options.privateRpHosts,
      }),
    });
    closers.push(() => server.close());
    const accounts = new Map<string, string>();
    server.provider.on('authorization_code.saved', (code) => {
      if (code.clientId && code.accountId) accounts.set(code.clientId, code.accountId);
    });

    const browser = await launchChromium();
    closers.push(() => browser.close());
    return {
      issuer: server.url,
      accountOf: (clientId) => accounts.get(clientId),
      newContext: async () => {
        const context = await browser.newContext({ locale: 'en-US' });
        peopleAt.set(context, helper.person);
        return context;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** alice's PIN on the virtual card. */
async function alicePin(): Promise<string> {
  return (await aliceCard()).identity.userAuthPin;
}

/**
 * A logout token exactly like the OP's (typ, iss, aud, events, jti, the given sid/sub, the kid of
 * the OP's RS256 key) but signed with another key: an RP that checks signatures refuses it.
 */
export async function forgedLogoutToken(
  issuer: string,
  clientId: string,
  about: { readonly sid?: string; readonly sub?: string },
): Promise<string> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: { kid: string; alg: string }[] };
  const kid = jwks.keys.find((key) => key.alg === 'RS256')?.kid;
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ ...about, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', ...(kid ? { kid } : {}) })
    .setIssuer(issuer)
    .setAudience(clientId)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(privateKey);
}

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A text of the OP's English pages, as the product words it. */
const en = (key: MessageKey) => message('en', key);

/**
 * What a person does on the OP's pages once an RP has sent the browser there (in a context of
 * InteropOp.newContext): press the card page's button and type the PIN into the helper's window;
 * for a third-party client, then answer the consent page.
 */
export async function signInOnCardPage(page: Page, consent?: 'allow' | 'deny'): Promise<void> {
  const person = peopleAt.get(page.context());
  if (!person) throw new Error('signInOnCardPage needs a page of InteropOp.newContext()');
  await page.waitForURL(/\/interaction\//, { timeout: 20_000 });
  await signInWithHelperWindow(page, person, await alicePin());
  if (!consent) return;
  const answer = consent === 'allow' ? en('consentAllow') : en('consentDeny');
  await page.getByRole('button', { name: answer, exact: true }).click({ timeout: 20_000 });
}

/**
 * Waits until the browser is back at the RP (a URL matching `url`); on a timeout the error says
 * what the page shows instead (e.g. an OP error page).
 */
export async function backAtRp(page: Page, url: string | RegExp): Promise<void> {
  try {
    await page.waitForURL(url, { timeout: 20_000 });
  } catch (error) {
    const shown = await page
      .locator('body')
      .textContent()
      .catch(() => '');
    const text = (shown ?? '').replace(/\s+/g, ' ').slice(0, 300);
    throw new Error(`still at ${page.url()}, which shows: ${text}`, { cause: error });
  }
}

/** Answers the OP's "Do you want to sign out?" page with "Sign out". */
export async function confirmSignOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: en('logoutYes'), exact: true }).click();
}
