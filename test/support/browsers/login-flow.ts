/**
 * A person's login through the demo RP, the OP's login page and the helper's PIN window, the same
 * in every engine: the engines differ only in how a page is driven (playwright-core for
 * Chromium, puppeteer-core over WebDriver BiDi for Firefox, raw W3C WebDriver for WebKit), which
 * {@link EnginePage} hides. Every step waits for what a person would see before acting.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import type { EngineLoginHarness } from './login-harness.js';

/** What a login test does in a page, whatever the engine. */
export interface EnginePage {
  goto(url: string): Promise<void>;
  /** Clicks the element matching `selector` (the caller waits for it to be shown first). */
  click(selector: string): Promise<void>;
  url(): Promise<string>;
  /** The text of the first element matching `selector` if it is shown, else undefined. */
  visibleText(selector: string): Promise<string | undefined>;
}

/** The in-page part of {@link EnginePage.visibleText}, run by every engine (a function body; `arguments[0]` is the selector). */
export const VISIBLE_TEXT_SCRIPT =
  'const e = document.querySelector(arguments[0]);' +
  ' return e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" ? e.textContent : undefined;';

/** {@link VISIBLE_TEXT_SCRIPT} as an expression for `selector`. */
function visibleTextExpression(selector: string): string {
  return `(function () { ${VISIBLE_TEXT_SCRIPT} })(${JSON.stringify(selector)})`;
}

/**
 * Chromium's page (playwright-core) as an EnginePage. A click does not wait for the navigation
 * it starts: the helper holds its page's GET while the person types the PIN.
 */
export function playwrightPage(page: Page): EnginePage {
  return {
    goto: async (url) => void (await page.goto(url)),
    click: (selector) => page.click(selector, { noWaitAfter: true }),
    url: async () => page.url(),
    visibleText: async (selector) =>
      (await page.evaluate(visibleTextExpression(selector))) as string | undefined,
  };
}

/** Firefox's page (puppeteer-core over WebDriver BiDi) as an EnginePage (its clicks do not wait for navigations). */
export function puppeteerPage(page: PuppeteerPage): EnginePage {
  return {
    goto: async (url) => void (await page.goto(url)),
    click: (selector) => page.click(selector),
    url: async () => page.url(),
    visibleText: async (selector) =>
      (await page.evaluate(visibleTextExpression(selector))) as string | undefined,
  };
}

/** Polls `check` until it is true; errors count as false (the page may be between documents). */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until `selector` is shown and its text matches `pattern`; returns the text. */
export async function waitForText(
  page: EnginePage,
  selector: string,
  pattern: RegExp,
  timeoutMs?: number,
): Promise<string> {
  let text: string | undefined;
  await waitUntil(
    async () => {
      text = await page.visibleText(selector);
      return text !== undefined && pattern.test(text);
    },
    `${selector} to show ${pattern}`,
    timeoutMs,
  );
  return text as string;
}

/** Waits until `selector` is shown, then clicks it. */
export async function clickWhenShown(page: EnginePage, selector: string, timeoutMs?: number): Promise<void> {
  await waitUntil(
    async () => (await page.visibleText(selector)) !== undefined,
    `${selector} to be shown`,
    timeoutMs,
  );
  await page.click(selector);
}

/** The demo RP's sign-in button. */
export const RP_SIGN_IN_BUTTON = 'form[action="/login"] button';
/** The OP login page's "Sign in with MyNumber card" button. */
export const START_BUTTON = '#start';

/** From the RP's home page to the OP's login page (https, public site). */
export async function openLoginPage(page: EnginePage, harness: EngineLoginHarness): Promise<void> {
  await page.goto(harness.stack.rpUrl);
  await clickWhenShown(page, RP_SIGN_IN_BUTTON);
  const loginPages = `${harness.site.origin}/interaction/`;
  await waitUntil(async () => (await page.url()).startsWith(loginPages), `the login page at ${loginPages}`);
}

/**
 * Runs `step`; when it fails, the error also says what the page showed and what the helper
 * logged (the log holds no PIN: origins, paths and error codes).
 */
async function explained<T>(
  page: EnginePage,
  harness: EngineLoginHarness,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const shown = async (selector: string) =>
      (await page.visibleText(selector).catch(() => undefined)) ?? '-';
    throw new Error(
      `${(error as Error).message}; the page (${await page.url().catch(() => '?')}) shows status ` +
        `"${await shown('#status')}", alert "${await shown('#alert')}"; the helper logged: ` +
        harness.helperLog.describeRecent(),
      { cause: error },
    );
  }
}

/** Waits for the RP's signed-in page and returns the ID token claims it shows. */
export function claimsAtRp(page: EnginePage, harness: EngineLoginHarness): Promise<Record<string, unknown>> {
  return explained(page, harness, async () => {
    await waitUntil(
      async () => (await page.url()) === harness.rpHome,
      `the RP's signed-in page ${harness.rpHome}`,
    );
    return JSON.parse(await waitForText(page, '#claims', /\{/)) as Record<string, unknown>;
  });
}

/** The person types `pin` into the helper's PIN window once it appears. */
export function enterPinInHelperWindow(
  page: EnginePage,
  harness: EngineLoginHarness,
  pin: string,
): Promise<void> {
  return explained(page, harness, () => harness.person.enterPin(pin));
}

/**
 * The whole login as a person does it: the RP's button, the login page's button, the card's PIN
 * typed into the helper's window — returns the claims the RP shows.
 */
export async function signIn(
  page: EnginePage,
  harness: EngineLoginHarness,
): Promise<Record<string, unknown>> {
  await openLoginPage(page, harness);
  await clickWhenShown(page, START_BUTTON);
  await enterPinInHelperWindow(page, harness, harness.identity.userAuthPin);
  return claimsAtRp(page, harness);
}

/** A well-formed PIN that is not `pin` (for a wrong-PIN attempt). */
export function wrongPinFor(pin: string): string {
  return pin === '0000' ? '1111' : '0000';
}
