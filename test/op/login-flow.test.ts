/**
 * The login page's flow (functions/op/login-page/browser/login-flow.ts) without a browser: path
 * choice (WebSocket, navigation, automatic fallback), permission states, Safari, every helper
 * answer and error code, retry with a fresh nonce, challenge renewal, the card-answer fragment;
 * the identity step (verify-identity, the signing password's words and tries, an old helper).
 * The browser tests (test/e2e) cover the DOM binding's wiring.
 */
import { describe, expect, it } from '@jest/globals';
import { CHALLENGE_RENEW_BELOW_SECONDS } from '../../functions/defaults.js';
import {
  browserFamily,
  type FlowConfig,
  type FlowEffect,
  type FlowEvent,
  type FlowView,
  initialFlow,
  NAVIGATION_STALL_MS,
  step,
  type Transition,
} from '../../functions/op/login-page/browser/login-flow.js';
import { LOCALES, messagesOf } from '../../functions/op/login-page/messages.js';
import {
  CARD_ANSWER_FRAGMENT,
  type CardAnswer,
  encodeCardAnswer,
  type HelperErrorCode,
  type HelperMessage,
  PROTOCOL_VERSION,
  type ReaderInfo,
} from '../../protocol/helper-protocol.js';
import { NAVIGATION_HOLD_MS } from '../../reader-helper/daemon/navigation.js';

const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const EDGE = `${CHROME} Edg/156.0.0.0`;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 15_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.0 Safari/605.1.15';
const IOS_CHROME =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 19_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/156.0 Mobile/15E148 Safari/604.1';

const NONCE = 'n'.repeat(43);
const SITE = 'https://login.example.jp';
const RETURN_URL = `${SITE}/interaction/abc/card-answer`;
const CARD: ReaderInfo = { name: 'Reader 0', card: 'jpki' };
const EMPTY: ReaderInfo = { name: 'Reader 0', card: 'absent' };

function config(overrides: Partial<FlowConfig> = {}): FlowConfig {
  return {
    mode: 'login',
    purpose: 'sign-in',
    nonce: NONCE,
    challengeTtlSeconds: 300,
    helperPort: 47123,
    loginUrl: '/interaction/abc/login',
    challengeUrl: '/interaction/abc/challenge',
    returnUrl: RETURN_URL,
    site: SITE,
    language: 'en',
    userAgent: CHROME,
    pageProtocol: 'https:',
    pageHostname: 'login.example.jp',
    ...overrides,
  };
}

/** A page driven by events; `at` is the clock in seconds since the page loaded. */
class Page {
  last: Transition;
  /** Every effect so far, in order. */
  readonly effects: FlowEffect[] = [];

  constructor(options: Partial<FlowConfig> = {}) {
    this.last = initialFlow(config(options), 0);
    this.effects.push(...this.last.effects);
  }

  on(event: FlowEvent, atSeconds = 0): readonly FlowEffect[] {
    this.last = step(this.last.state, event, atSeconds * 1000);
    this.effects.push(...this.last.effects);
    return this.last.effects;
  }

  helper(message: HelperMessage, atSeconds = 0): readonly FlowEffect[] {
    return this.on({ type: 'helper-message', message }, atSeconds);
  }

  get view(): FlowView {
    return this.last.view;
  }

  /** The last `send` effect's message. */
  sent(): unknown {
    const sends = this.effects.filter((effect) => effect.type === 'send');
    return sends.at(-1)?.message;
  }
}

const hello = (readers: ReaderInfo[] = [CARD], protocolVersion = PROTOCOL_VERSION): HelperMessage => ({
  type: 'hello',
  id: '1',
  protocolVersion,
  helperVersion: '2.0.0',
  readers,
});

/** A page with the permission granted, connected, greeted by the helper, "Sign in" clicked. */
function authenticating(options: Partial<FlowConfig> = {}): Page {
  const page = new Page(options);
  page.on({ type: 'permission', state: 'granted' });
  page.on({ type: 'socket-open' });
  page.helper(hello());
  page.on({ type: 'start' });
  return page;
}

const helperUrl = (nonce: string, language = 'en') =>
  `http://127.0.0.1:47123/authenticate?nonce=${nonce}&return=${encodeURIComponent(RETURN_URL)}&lang=${language}`;

describe('WebSocket path, permission granted', () => {
  it('connects at once, authenticates on the click, names the site while the PIN window is open, posts the answer', () => {
    const page = new Page();
    expect(page.effects).toEqual([{ type: 'query-permission' }]);
    expect(page.view).toMatchObject({ status: { key: 'statePreparing' }, start: false });
    expect(page.on({ type: 'permission', state: 'granted' })).toEqual([
      { type: 'open-socket', url: 'ws://127.0.0.1:47123' },
    ]);
    expect(page.on({ type: 'socket-open' })).toEqual([{ type: 'send', message: { type: 'hello', id: '1' } }]);
    page.helper(hello());
    // Connected, card there: nothing happens before the person clicks.
    expect(page.view).toMatchObject({ status: { key: 'stateReady' }, start: true, retry: false });
    expect(page.view.hint).toBeUndefined();
    expect(page.on({ type: 'start' })).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '2', nonce: NONCE, language: 'en' } },
    ]);
    expect(page.view).toMatchObject({ status: { key: 'stateOpening' }, start: false });
    page.helper({ type: 'progress', id: '2', step: 'pin-entry', triesLeft: 3 });
    expect(page.view.status).toEqual({ key: 'statePinWindow', params: { site: SITE } });
    page.helper({ type: 'progress', id: '2', step: 'signing' });
    expect(page.view.status).toEqual({ key: 'stateSigning' });
    expect(page.helper({ type: 'authenticated', id: '2', certificate: 'Q0VSVA', signature: 'U0lH' })).toEqual(
      [{ type: 'post-answer', answer: { certificate: 'Q0VSVA', signature: 'U0lH' } }],
    );
    expect(page.view.status).toEqual({ key: 'stateSending' });
    expect(
      page.on({ type: 'login-reply', reply: { redirectTo: 'https://login.example.jp/auth/x' } }),
    ).toEqual([{ type: 'close-socket' }, { type: 'go', url: 'https://login.example.jp/auth/x' }]);
    expect(page.view.status).toEqual({ key: 'stateVerified' });
  });

  it('says what the reader needs before and after the click, and authenticates when the card arrives', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'granted' });
    page.on({ type: 'socket-open' });
    page.helper(hello([]));
    expect(page.view).toMatchObject({ status: { key: 'stateNoReader' }, start: true });
    page.helper({ type: 'readers', readers: [{ name: 'R', card: 'not-jpki' }] });
    expect(page.view.status.key).toBe('stateNotJpki');
    expect(page.on({ type: 'start' })).toEqual([]);
    expect(page.view).toMatchObject({ status: { key: 'stateNotJpki' }, start: false });
    page.helper({ type: 'readers', readers: [EMPTY] });
    expect(page.view.status.key).toBe('stateNoCard');
    expect(page.helper({ type: 'readers', readers: [EMPTY, CARD] })).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '2', nonce: NONCE, language: 'en' } },
    ]);
  });

  it('authenticates right after the hello when the click came first', () => {
    const page = new Page({ language: 'ja' });
    page.on({ type: 'permission', state: 'granted' });
    page.on({ type: 'start' });
    expect(page.view.status.key).toBe('stateLooking');
    page.on({ type: 'socket-open' });
    expect(page.helper(hello())).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '2', nonce: NONCE, language: 'ja' } },
    ]);
  });

  it('shows the PIN pad step', () => {
    const page = authenticating();
    page.helper({ type: 'progress', id: '2', step: 'pin-pad', triesLeft: 3 });
    expect(page.view.status).toEqual({ key: 'statePinPad', params: { site: SITE } });
  });

  it('a helper that is not running (permission granted): unreachable, both causes, status page, retry', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'granted' });
    expect(page.on({ type: 'socket-closed' })).toEqual([]);
    expect(page.view).toEqual({
      status: { key: 'stateNoHelper' },
      hint: { key: 'stateNoHelperReasons' },
      start: false,
      retry: true,
      guide: true,
      focus: 'retry',
    });
    expect(page.on({ type: 'retry' })).toEqual([{ type: 'open-socket', url: 'ws://127.0.0.1:47123' }]);
    expect(page.view.status.key).toBe('stateLooking');
  });

  it('a helper that stops while the PIN window is open: unreachable', () => {
    const page = authenticating();
    page.helper({ type: 'progress', id: '2', step: 'pin-entry' });
    page.on({ type: 'socket-closed' });
    expect(page.view).toMatchObject({ status: { key: 'stateNoHelper' }, retry: true, guide: true });
  });

  it('an outdated helper (protocol < 2, it would want the PIN in the page): says so, closes, retries', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'granted' });
    page.on({ type: 'socket-open' });
    expect(page.helper(hello([CARD], 1))).toEqual([{ type: 'close-socket' }]);
    expect(page.view).toMatchObject({ status: { key: 'stateHelperOutdated' }, retry: true, guide: true });
    expect(page.on({ type: 'start' })).toEqual([]);
    expect(page.on({ type: 'retry' })).toEqual([{ type: 'open-socket', url: 'ws://127.0.0.1:47123' }]);
    page.on({ type: 'socket-open' });
    page.helper(hello([CARD]));
    // The click came before: the updated helper gets the authenticate at once.
    expect(page.sent()).toMatchObject({ type: 'authenticate' });
  });

  it('ignores what is not for the current request, unknown message types; garbage is BAD_REQUEST', () => {
    const page = authenticating();
    expect(page.helper({ type: 'authenticated', id: '9', certificate: 'AA', signature: 'AA' })).toEqual([]);
    expect(page.helper({ type: 'error', id: '9', code: 'PIN_BLOCKED', message: 'x' })).toEqual([]);
    expect(page.helper({ type: 'progress', id: '9', step: 'signing' })).toEqual([]);
    expect(page.helper({ type: 'surprise' } as unknown as HelperMessage)).toEqual([]);
    expect(page.helper({ type: 'readers', readers: 'none' } as unknown as HelperMessage)).toEqual([]);
    expect(page.view.status.key).toBe('stateOpening');
    page.on({ type: 'helper-garbage' });
    expect(page.view).toMatchObject({ alert: { key: 'HELPER_BAD_REQUEST' }, retry: true });
  });
});

describe('every helper error code', () => {
  type Expected = Pick<FlowView, 'retry' | 'guide' | 'start'> & { status: string; alert: string };
  const retryable = (code: HelperErrorCode, guide = false): [HelperErrorCode, Expected] => [
    code,
    { status: 'stateTryAgain', alert: `HELPER_${code}`, retry: true, guide, start: false },
  ];
  const cases: [HelperErrorCode, Expected][] = [
    [
      'PIN_BLOCKED',
      { status: 'statePinBlocked', alert: 'HELPER_PIN_BLOCKED', retry: false, guide: false, start: false },
    ],
    retryable('PIN_INCORRECT'),
    retryable('CARD_ERROR'),
    retryable('BUSY'),
    retryable('TIMEOUT'),
    retryable('CANCELLED'),
    retryable('USER_CANCELLED'),
    retryable('PIN_ENTRY_UNAVAILABLE', true),
    retryable('BAD_REQUEST'),
    // The card is not there: the page waits for it (no button; it authenticates when it arrives).
    [
      'NO_READER',
      { status: 'stateNoCard', alert: 'HELPER_NO_READER', retry: false, guide: false, start: false },
    ],
    ['NO_CARD', { status: 'stateNoCard', alert: 'HELPER_NO_CARD', retry: false, guide: false, start: false }],
    [
      'NOT_JPKI',
      { status: 'stateNoCard', alert: 'HELPER_NOT_JPKI', retry: false, guide: false, start: false },
    ],
    [
      'CARD_REMOVED',
      { status: 'stateNoCard', alert: 'HELPER_CARD_REMOVED', retry: false, guide: false, start: false },
    ],
  ];

  it.each(cases)('%s over the WebSocket', (code, expected) => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code, message: 'in English for logs' });
    const { view } = page;
    expect({
      status: view.status.key,
      alert: view.alert?.key,
      retry: view.retry,
      guide: view.guide,
      start: view.start,
    }).toEqual(expected);
  });

  it('PIN_BLOCKED is final: no retry, no PIN entry offered, the alert is focused', () => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code: 'PIN_BLOCKED', message: 'blocked', triesLeft: 0 });
    expect(page.view).toEqual({
      status: { key: 'statePinBlocked' },
      alert: { key: 'HELPER_PIN_BLOCKED' },
      start: false,
      retry: false,
      guide: false,
      focus: 'alert',
    });
    expect(page.on({ type: 'retry' })).toEqual([]);
    expect(page.on({ type: 'start' })).toEqual([]);
    expect(page.helper({ type: 'readers', readers: [CARD] })).toEqual([]);
  });

  it('a wrong PIN says how many tries are left; "try again" sends a new authenticate', () => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code: 'PIN_INCORRECT', message: 'wrong', triesLeft: 2 });
    expect(page.view.alert).toEqual({
      key: 'triesLeft',
      params: { message: { key: 'HELPER_PIN_INCORRECT' }, n: 2 },
    });
    expect(page.view.focus).toBe('retry');
    expect(page.on({ type: 'retry' }, 30)).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '3', nonce: NONCE, language: 'en' } },
    ]);
    page.helper({ type: 'error', id: '3', code: 'PIN_INCORRECT', message: 'wrong', triesLeft: 1 });
    expect(page.view.alert).toEqual({
      key: 'triesLeftOne',
      params: { message: { key: 'HELPER_PIN_INCORRECT' }, n: 1 },
    });
  });

  it('a wrong last try (no tries left) is the blocked state', () => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code: 'PIN_INCORRECT', message: 'wrong', triesLeft: 0 });
    expect(page.view).toMatchObject({
      status: { key: 'statePinBlocked' },
      alert: { key: 'HELPER_PIN_BLOCKED' },
      retry: false,
    });
  });

  it('a card placed again after CARD_REMOVED is used at once', () => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code: 'CARD_REMOVED', message: 'removed' });
    expect(page.helper({ type: 'readers', readers: [EMPTY] })).toEqual([]);
    expect(page.helper({ type: 'readers', readers: [CARD] })).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '3', nonce: NONCE, language: 'en' } },
    ]);
  });

  it('the helper answering `cancelled` ends the attempt like CANCELLED', () => {
    const page = authenticating();
    page.helper({ type: 'cancelled', id: '2' });
    expect(page.view).toMatchObject({ alert: { key: 'HELPER_CANCELLED' }, retry: true });
  });

  it('no message the page sends carries a PIN', () => {
    const page = authenticating();
    page.helper({ type: 'error', id: '2', code: 'PIN_INCORRECT', message: 'wrong', triesLeft: 2 });
    page.on({ type: 'retry' });
    const sent = page.effects.flatMap((effect) => (effect.type === 'send' ? [effect.message] : []));
    expect(sent.map((message) => Object.keys(message).sort())).toEqual([
      ['id', 'type'],
      ['id', 'language', 'nonce', 'type'],
      ['id', 'language', 'nonce', 'type'],
    ]);
  });
});

describe('the OP refuses the answer', () => {
  it('with a fresh challenge: the error in its words, "try again" signs the new nonce', () => {
    const page = authenticating();
    page.helper({ type: 'authenticated', id: '2', certificate: 'AA', signature: 'AA' });
    const fresh = 'f'.repeat(43);
    page.on(
      {
        type: 'login-reply',
        reply: {
          error: { code: 'REVOKED', message: 'This certificate has been revoked.' },
          nonce: fresh,
          ttlSeconds: 300,
        },
      },
      100,
    );
    expect(page.view).toMatchObject({
      status: { key: 'stateTryAgain' },
      alert: { key: 'withCode', params: { message: 'This certificate has been revoked.', code: 'REVOKED' } },
      retry: true,
    });
    // 300 s from t=100: at t=200 plenty is left, no renewal.
    expect(page.on({ type: 'retry' }, 200)).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '3', nonce: fresh, language: 'en' } },
    ]);
  });

  it('without a challenge (limit reached, sign-in over): final', () => {
    const page = authenticating();
    page.helper({ type: 'authenticated', id: '2', certificate: 'AA', signature: 'AA' });
    page.on({
      type: 'login-reply',
      reply: {
        error: { code: 'TOO_MANY_ATTEMPTS', message: 'Too many attempts. Wait 60 seconds, then try again.' },
      },
    });
    expect(page.view).toMatchObject({
      status: { key: 'errorTitle' },
      retry: false,
      start: false,
      focus: 'alert',
    });
  });

  it('not reachable: retry takes a new challenge first (the OP may have consumed the old one)', () => {
    const page = authenticating();
    page.helper({ type: 'authenticated', id: '2', certificate: 'AA', signature: 'AA' });
    page.on({ type: 'login-failed' });
    expect(page.view).toMatchObject({ alert: { key: 'networkError' }, retry: true });
    expect(page.on({ type: 'retry' }, 1)).toEqual([{ type: 'renew-challenge' }]);
  });
});

describe('challenge renewal before any PIN entry', () => {
  const leftAt = (seconds: number) => 300 - seconds;

  it(`authenticates directly with ≥ ${CHALLENGE_RENEW_BELOW_SECONDS} s left, renews first with less`, () => {
    const early = new Page();
    early.on({ type: 'permission', state: 'granted' });
    early.on({ type: 'socket-open' });
    early.helper(hello());
    expect(leftAt(150)).toBe(CHALLENGE_RENEW_BELOW_SECONDS);
    expect(early.on({ type: 'start' }, 150)).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '2', nonce: NONCE, language: 'en' } },
    ]);

    const late = new Page();
    late.on({ type: 'permission', state: 'granted' });
    late.on({ type: 'socket-open' });
    late.helper(hello());
    expect(late.on({ type: 'start' }, 151)).toEqual([{ type: 'renew-challenge' }]);
    expect(late.view.status.key).toBe('statePreparing');
    const renewed = 'r'.repeat(43);
    expect(late.on({ type: 'challenge-renewed', nonce: renewed, ttlSeconds: 300 }, 152)).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '2', nonce: renewed, language: 'en' } },
    ]);
    // The renewed challenge is good for another 300 s: a retry at t=300 uses it.
    late.helper({ type: 'error', id: '2', code: 'USER_CANCELLED', message: 'cancelled' });
    expect(late.on({ type: 'retry' }, 300)).toEqual([
      { type: 'send', message: { type: 'authenticate', id: '3', nonce: renewed, language: 'en' } },
    ]);
  });

  it('renews before a navigation too', () => {
    const page = new Page({ userAgent: SAFARI });
    expect(page.on({ type: 'start' }, 200)).toEqual([{ type: 'renew-challenge' }]);
    const renewed = 'r'.repeat(43);
    expect(page.on({ type: 'challenge-renewed', nonce: renewed, ttlSeconds: 300 }, 201)).toEqual([
      { type: 'open-helper-page', url: helperUrl(renewed) },
    ]);
  });

  it('a refused renewal: the OP says why (final); an unreachable OP: try again', () => {
    const page = new Page({ userAgent: SAFARI });
    page.on({ type: 'start' }, 200);
    page.on({
      type: 'challenge-refused',
      error: { code: 'INTERACTION_EXPIRED', message: 'This sign-in has expired.' },
    });
    expect(page.view).toMatchObject({
      status: { key: 'errorTitle' },
      alert: { key: 'withCode', params: { code: 'INTERACTION_EXPIRED' } },
      retry: false,
    });
    const offline = new Page({ userAgent: SAFARI });
    offline.on({ type: 'start' }, 200);
    offline.on({ type: 'challenge-refused' });
    expect(offline.view).toMatchObject({ alert: { key: 'networkError' }, retry: true });
    expect(offline.on({ type: 'retry' }, 201)).toEqual([{ type: 'renew-challenge' }]);
  });
});

describe('permission prompt', () => {
  it.each([
    ['Chrome', CHROME, 'hintPromptChromium'],
    ['Edge', EDGE, 'hintPromptChromium'],
    ['Firefox', FIREFOX, 'hintPromptFirefox'],
  ])('%s: explains the question before the click, connects only on the click', (_name, userAgent, hint) => {
    const page = new Page({ userAgent });
    expect(page.on({ type: 'permission', state: 'prompt' })).toEqual([]);
    expect(page.view).toMatchObject({ status: { key: 'stateReady' }, hint: { key: hint }, start: true });
    expect(page.on({ type: 'start' })).toEqual([{ type: 'open-socket', url: 'ws://127.0.0.1:47123' }]);
    // The browser asks now: say what to answer.
    expect(page.view).toMatchObject({
      status: { key: 'stateAnswerPrompt' },
      hint: { key: hint },
      start: false,
    });
    page.on({ type: 'socket-open' });
    page.helper(hello());
    expect(page.sent()).toMatchObject({ type: 'authenticate', nonce: NONCE });
  });

  it('blocked, dismissed or headless (socket fails, still not granted): navigation path by itself', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'prompt' });
    page.on({ type: 'start' });
    expect(page.on({ type: 'socket-closed' })).toEqual([{ type: 'query-permission' }]);
    expect(page.on({ type: 'socket-closed' })).toEqual([]);
    expect(page.on({ type: 'permission', state: 'denied' }, 10)).toEqual([
      { type: 'open-helper-page', url: helperUrl(NONCE) },
    ]);
    expect(page.view.status.key).toBe('stateFallback');
  });

  it('allowed, and still no socket: the helper is not running', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'prompt' });
    page.on({ type: 'start' });
    page.on({ type: 'socket-closed' });
    expect(page.on({ type: 'permission', state: 'granted' })).toEqual([]);
    expect(page.view).toMatchObject({ status: { key: 'stateNoHelper' }, guide: true, retry: true });
  });

  it('the fallback renews a stale challenge before navigating, and keeps its words', () => {
    const page = new Page();
    page.on({ type: 'permission', state: 'prompt' });
    page.on({ type: 'start' }, 170);
    page.on({ type: 'socket-closed' }, 171);
    expect(page.on({ type: 'permission', state: 'prompt' }, 172)).toEqual([{ type: 'renew-challenge' }]);
    page.on({ type: 'challenge-renewed', nonce: 'r'.repeat(43), ttlSeconds: 300 }, 173);
    expect(page.view.status.key).toBe('stateFallback');
  });

  it('no such permission (older browsers): connects on the click; a failed socket means unreachable', () => {
    const page = new Page({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36' });
    page.on({ type: 'permission', state: 'unsupported' });
    expect(page.view).toMatchObject({ start: true });
    expect(page.view.hint).toBeUndefined();
    expect(page.on({ type: 'start' })).toEqual([{ type: 'open-socket', url: 'ws://127.0.0.1:47123' }]);
    expect(page.on({ type: 'socket-closed' })).toEqual([]);
    expect(page.view.status.key).toBe('stateNoHelper');
  });
});

describe('permission denied', () => {
  it.each([
    ['Chrome', CHROME, 'hintDeniedChromium'],
    ['Edge', EDGE, 'hintDeniedChromium'],
    ['Firefox', FIREFOX, 'hintDeniedFirefox'],
    ['another browser', 'Mozilla/5.0 Something/1.0', 'hintDeniedOther'],
  ])('%s: says how to re-allow it; the click uses the navigation path', (_name, userAgent, hint) => {
    const page = new Page({ userAgent });
    page.on({ type: 'permission', state: 'denied' });
    expect(page.view).toMatchObject({ status: { key: 'stateReady' }, hint: { key: hint }, start: true });
    expect(page.on({ type: 'start' }, 5)).toEqual([{ type: 'open-helper-page', url: helperUrl(NONCE) }]);
    expect(page.view.status.key).toBe('stateNavigating');
    expect(page.effects.some((effect) => effect.type === 'open-socket')).toBe(false);
  });
});

describe('a navigation to the helper that does not leave the page', () => {
  it('offers “Try again” when the page is still shown after the stall timer (Esc, no helper); the retry navigates again', () => {
    const page = new Page({ userAgent: SAFARI });
    page.on({ type: 'start' });
    expect(page.view.status.key).toBe('stateNavigating');
    expect(page.view.retry).toBe(false);
    page.on({ type: 'navigation-stalled' }, NAVIGATION_STALL_MS / 1000);
    expect(page.view).toMatchObject({
      status: { key: 'stateTryAgain' },
      alert: { key: 'stateNavigationStalled' },
      retry: true,
      focus: 'retry',
    });
    expect(page.on({ type: 'retry' }, 30)).toEqual([{ type: 'open-helper-page', url: helperUrl(NONCE) }]);
    expect(page.view.status.key).toBe('stateNavigating');
  });

  it('ignores a stall timer of an earlier navigation once the page does something else', () => {
    const page = authenticating();
    const before = page.view;
    expect(page.on({ type: 'navigation-stalled' })).toEqual([]);
    expect(page.view).toEqual(before);
  });

  it('waits longer than the helper holds a GET (its page then commits)', () => {
    expect(NAVIGATION_STALL_MS).toBeGreaterThan(NAVIGATION_HOLD_MS);
  });
});

describe('Safari and other WebKit browsers', () => {
  it.each([
    ['Safari', SAFARI],
    ['Chrome on iOS (WebKit)', IOS_CHROME],
  ])('%s on https: navigation path directly, no permission query, no socket', (_name, userAgent) => {
    const page = new Page({ userAgent, language: 'ja' });
    expect(page.effects).toEqual([]);
    expect(page.view).toMatchObject({
      status: { key: 'stateReady' },
      hint: { key: 'hintNavigation' },
      start: true,
    });
    expect(page.on({ type: 'start' })).toEqual([{ type: 'open-helper-page', url: helperUrl(NONCE, 'ja') }]);
  });

  it('Safari on an http page may use the socket (no mixed content)', () => {
    const page = new Page({ userAgent: SAFARI, pageProtocol: 'http:', pageHostname: 'op.example' });
    expect(page.effects).toEqual([{ type: 'query-permission' }]);
  });

  it('tells the browser families apart by user agent', () => {
    const webkitGtk = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko)';
    expect([CHROME, EDGE, FIREFOX, SAFARI, IOS_CHROME, webkitGtk, 'curl/8'].map(browserFamily)).toEqual([
      'chromium',
      'chromium',
      'firefox',
      'safari',
      'safari',
      'safari',
      'other',
    ]);
  });
});

describe('a page on this computer (http://localhost)', () => {
  it('connects at once: Local Network Access does not apply to a loopback page', () => {
    const page = new Page({
      pageProtocol: 'http:',
      pageHostname: 'localhost',
      site: 'http://localhost:3000',
    });
    expect(page.effects).toEqual([{ type: 'open-socket', url: 'ws://127.0.0.1:47123' }]);
    page.on({ type: 'socket-closed' });
    expect(page.view.status.key).toBe('stateNoHelper');
  });
});

describe('card-answer page (the helper brought the browser back)', () => {
  const fragment = (answer: CardAnswer) => `#${encodeCardAnswer(answer)}`;
  const cardAnswerPage = () => new Page({ mode: 'card-answer', nonce: undefined, challengeTtlSeconds: 0 });

  it('an answer: clears the address bar first, then posts it', () => {
    const page = cardAnswerPage();
    expect(page.effects).toEqual([]);
    expect(page.view.status.key).toBe('statePreparing');
    const answer = { v: 2, nonce: NONCE, certificate: 'Q0VSVA', signature: 'U0lH' } as const;
    expect(page.on({ type: 'card-answer', hash: fragment(answer) })).toEqual([
      { type: 'clear-fragment' },
      { type: 'post-answer', answer: { certificate: 'Q0VSVA', signature: 'U0lH' } },
    ]);
    expect(page.on({ type: 'login-reply', reply: { redirectTo: '/auth/x' } })).toEqual([
      { type: 'go', url: '/auth/x' },
    ]);
  });

  it('a wrong PIN: tries left; "try again" takes a new challenge, then navigates to the helper again', () => {
    const page = cardAnswerPage();
    const answer: CardAnswer = { v: 2, nonce: NONCE, error: { code: 'PIN_INCORRECT', triesLeft: 1 } };
    expect(page.on({ type: 'card-answer', hash: fragment(answer) })).toEqual([{ type: 'clear-fragment' }]);
    expect(page.view).toMatchObject({
      alert: { key: 'triesLeftOne', params: { message: { key: 'HELPER_PIN_INCORRECT' }, n: 1 } },
      retry: true,
    });
    expect(page.on({ type: 'retry' })).toEqual([{ type: 'renew-challenge' }]);
    const renewed = 'r'.repeat(43);
    expect(page.on({ type: 'challenge-renewed', nonce: renewed, ttlSeconds: 300 })).toEqual([
      { type: 'open-helper-page', url: helperUrl(renewed) },
    ]);
  });

  it.each([
    ['PIN_BLOCKED', 'statePinBlocked', false],
    ['NO_CARD', 'stateTryAgain', true],
    ['BUSY', 'stateTryAgain', true],
    ['USER_CANCELLED', 'stateTryAgain', true],
  ] as const)('an error %s', (code, status, retry) => {
    const page = cardAnswerPage();
    page.on({ type: 'card-answer', hash: fragment({ v: 2, nonce: NONCE, error: { code } }) });
    expect(page.view).toMatchObject({ status: { key: status }, alert: { key: `HELPER_${code}` }, retry });
  });

  it.each([
    ['no fragment', ''],
    ['another fragment', '#section-2'],
    ['not base64url', `#${CARD_ANSWER_FRAGMENT}=%%%`],
    ['not JSON', `#${CARD_ANSWER_FRAGMENT}=${Buffer.from('nope').toString('base64url')}`],
    [
      'a wrong shape',
      `#${CARD_ANSWER_FRAGMENT}=${Buffer.from(JSON.stringify({ v: 1, nonce: NONCE })).toString('base64url')}`,
    ],
  ])('garbage (%s): cleared, says the answer was unreadable, offers to try again', (_name, hash) => {
    const page = cardAnswerPage();
    expect(page.on({ type: 'card-answer', hash })).toEqual([{ type: 'clear-fragment' }]);
    expect(page.view).toMatchObject({ alert: { key: 'stateAnswerUnreadable' }, retry: true });
    expect(page.effects.some((effect) => effect.type === 'post-answer')).toBe(false);
  });

  it('reads the fragment once', () => {
    const page = cardAnswerPage();
    page.on({
      type: 'card-answer',
      hash: fragment({ v: 2, nonce: NONCE, certificate: 'AA', signature: 'AA' }),
    });
    expect(page.on({ type: 'card-answer', hash: '' })).toEqual([]);
  });
});

/** Adds every message key in `value` (a view, a text and its nested texts) to `keys`. */
function collectKeys(value: unknown, keys: Set<string>): void {
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  if (typeof record.key === 'string') keys.add(record.key);
  for (const child of Object.values(record)) collectKeys(child, keys);
}

describe('texts', () => {
  it('every key a view can show exists in both languages', () => {
    const keys = new Set<string>();
    const collect = (view: FlowView) => collectKeys(view, keys);
    const page = authenticating();
    for (const code of ['PIN_INCORRECT', 'PIN_ENTRY_UNAVAILABLE', 'PIN_BLOCKED'] as const) {
      collect(
        step(
          page.last.state,
          { type: 'helper-message', message: { type: 'error', id: '2', code, message: '' } },
          0,
        ).view,
      );
    }
    for (const state of ['prompt', 'denied', 'unsupported'] as const) {
      collect(step(new Page().last.state, { type: 'permission', state }, 0).view);
    }
    collect(new Page({ userAgent: SAFARI }).view);
    expect(keys.size).toBeGreaterThan(5);
    for (const locale of LOCALES) {
      const texts = messagesOf(locale) as Record<string, string>;
      for (const key of keys)
        expect({ locale, key, present: key in texts }).toEqual({ locale, key, present: true });
    }
  });
});

describe('identity step (verify-identity with the signing certificate)', () => {
  const IDENTITY: Partial<FlowConfig> = {
    purpose: 'verify-identity',
    loginUrl: '/interaction/abc/identity',
  };
  const fragment = (answer: CardAnswer) => `#${encodeCardAnswer(answer)}`;
  const identityAnswer = {
    v: 2,
    nonce: NONCE,
    purpose: 'verify-identity',
    userAuthCertificate: 'VUFD',
    signingCertificate: 'U0lHTg',
    signature: 'U0lH',
  } as const;
  const posted = {
    type: 'post-answer',
    answer: { userAuthCertificate: 'VUFD', signingCertificate: 'U0lHTg', signature: 'U0lH' },
  } as const;

  it('asks the helper for verify-identity, says the signing password and its tries, posts both certificates', () => {
    const page = new Page(IDENTITY);
    page.on({ type: 'permission', state: 'granted' });
    page.on({ type: 'socket-open' });
    page.helper(hello());
    expect(page.view).toMatchObject({ status: { key: 'identityStateReady' }, start: true });
    expect(page.on({ type: 'start' })).toEqual([
      { type: 'send', message: { type: 'verify-identity', id: '2', nonce: NONCE, language: 'en' } },
    ]);
    // All five tries left: the window is named, nothing about tries.
    page.helper({ type: 'progress', id: '2', step: 'pin-entry', triesLeft: 5 });
    expect(page.view.status).toEqual({ key: 'identityStatePinWindow', params: { site: SITE } });
    page.helper({ type: 'progress', id: '2', step: 'pin-entry', triesLeft: 2 });
    expect(page.view.status).toEqual({
      key: 'identityTriesBefore',
      params: { message: { key: 'identityStatePinWindow', params: { site: SITE } }, n: 2 },
    });
    page.helper({ type: 'progress', id: '2', step: 'pin-pad', triesLeft: 1 });
    expect(page.view.status).toEqual({
      key: 'identityTriesBeforeOne',
      params: { message: { key: 'identityStatePinPad', params: { site: SITE } }, n: 1 },
    });
    page.helper({ type: 'progress', id: '2', step: 'signing' });
    expect(page.view.status.key).toBe('identityStateSigning');
    // A login's answer is not what this page waits for.
    expect(page.helper({ type: 'authenticated', id: '2', certificate: 'AA', signature: 'AA' })).toEqual([]);
    expect(
      page.helper({
        type: 'identity-verified',
        id: '2',
        userAuthCertificate: 'VUFD',
        signingCertificate: 'U0lHTg',
        signature: 'U0lH',
      }),
    ).toEqual([posted]);
    expect(page.view.status.key).toBe('stateSending');
    expect(page.on({ type: 'login-reply', reply: { redirectTo: '/interaction/abc' } })).toEqual([
      { type: 'close-socket' },
      { type: 'go', url: '/interaction/abc' },
    ]);
    expect(page.view.status.key).toBe('identityStateVerified');
  });

  it('a sign-in page ignores an identity answer', () => {
    const page = authenticating();
    expect(
      page.helper({
        type: 'identity-verified',
        id: '2',
        userAuthCertificate: 'AA',
        signingCertificate: 'AA',
        signature: 'AA',
      }),
    ).toEqual([]);
    expect(page.view.status.key).toBe('stateOpening');
  });

  it.each([
    ['PIN_INCORRECT', 4, 'triesLeft', 'IDENTITY_PIN_INCORRECT', 'stateTryAgain', true],
    ['PIN_INCORRECT', 1, 'triesLeftOne', 'IDENTITY_PIN_INCORRECT', 'stateTryAgain', true],
    ['PIN_INCORRECT', 0, 'IDENTITY_PIN_BLOCKED', undefined, 'identityStatePinBlocked', false],
    ['PIN_BLOCKED', undefined, 'IDENTITY_PIN_BLOCKED', undefined, 'identityStatePinBlocked', false],
    ['USER_CANCELLED', undefined, 'IDENTITY_USER_CANCELLED', undefined, 'stateTryAgain', true],
    ['PIN_ENTRY_UNAVAILABLE', undefined, 'IDENTITY_PIN_ENTRY_UNAVAILABLE', undefined, 'stateTryAgain', true],
    ['BAD_REQUEST', undefined, 'identityHelperOutdated', undefined, 'stateTryAgain', true],
    ['CARD_ERROR', undefined, 'HELPER_CARD_ERROR', undefined, 'stateTryAgain', true],
    ['TIMEOUT', undefined, 'HELPER_TIMEOUT', undefined, 'stateTryAgain', true],
  ] as const)(
    'helper error %s (tries left %s): alert %s, status %s',
    (code, triesLeft, alertKey, inner, status, retry) => {
      const page = authenticating(IDENTITY);
      page.helper({
        type: 'error',
        id: '2',
        code,
        message: '',
        ...(triesLeft === undefined ? {} : { triesLeft }),
      });
      const alert = page.view.alert as { key: string; params?: { message: { key: string }; n: number } };
      expect(alert.key).toBe(alertKey);
      if (inner) expect(alert.params).toEqual({ message: { key: inner }, n: triesLeft });
      expect(page.view).toMatchObject({ status: { key: status }, retry });
    },
  );

  it('an old helper (BAD_REQUEST to verify-identity) gets the update text and the links to its status and guide', () => {
    const page = authenticating(IDENTITY);
    page.helper({ type: 'error', id: '2', code: 'BAD_REQUEST', message: 'unknown request type' });
    expect(page.view).toMatchObject({ alert: { key: 'identityHelperOutdated' }, guide: true, retry: true });
  });

  it('navigation path: the helper page is asked for purpose=verify-identity', () => {
    const page = new Page({ ...IDENTITY, userAgent: SAFARI });
    expect(page.view.hint?.key).toBe('identityHintNavigation');
    expect(page.on({ type: 'start' })).toEqual([
      { type: 'open-helper-page', url: `${helperUrl(NONCE)}&purpose=verify-identity` },
    ]);
  });

  describe('card-answer page', () => {
    const cardAnswerPage = (options: Partial<FlowConfig> = IDENTITY) =>
      new Page({ ...options, mode: 'card-answer', nonce: undefined, challengeTtlSeconds: 0 });

    it('an identity answer: clears the address bar, then posts both certificates', () => {
      const page = cardAnswerPage();
      expect(page.on({ type: 'card-answer', hash: fragment(identityAnswer) })).toEqual([
        { type: 'clear-fragment' },
        posted,
      ]);
    });

    it('a wrong signing password: the identity words, tries left', () => {
      const page = cardAnswerPage();
      const answer: CardAnswer = {
        v: 2,
        nonce: NONCE,
        purpose: 'verify-identity',
        error: { code: 'PIN_INCORRECT', triesLeft: 3 },
      };
      page.on({ type: 'card-answer', hash: fragment(answer) });
      expect(page.view).toMatchObject({
        alert: { key: 'triesLeft', params: { message: { key: 'IDENTITY_PIN_INCORRECT' }, n: 3 } },
        retry: true,
      });
    });

    it('a sign-in answer (an old helper that ignored purpose) is not posted: update the helper', () => {
      const page = cardAnswerPage();
      const answer = { v: 2, nonce: NONCE, certificate: 'AA', signature: 'AA' } as const;
      expect(page.on({ type: 'card-answer', hash: fragment(answer) })).toEqual([{ type: 'clear-fragment' }]);
      expect(page.view).toMatchObject({ alert: { key: 'identityHelperOutdated' }, guide: true, retry: true });
    });

    it('an identity answer on a sign-in page is not posted', () => {
      const page = cardAnswerPage({});
      expect(page.on({ type: 'card-answer', hash: fragment(identityAnswer) })).toEqual([
        { type: 'clear-fragment' },
      ]);
      expect(page.view).toMatchObject({ alert: { key: 'stateAnswerUnreadable' }, retry: true });
    });
  });

  it('every key the identity step can show exists in both languages, and differs from the sign-in words', () => {
    const keys = new Set<string>();
    const collect = (view: FlowView) => collectKeys(view, keys);
    for (const code of [
      'PIN_INCORRECT',
      'PIN_BLOCKED',
      'USER_CANCELLED',
      'PIN_ENTRY_UNAVAILABLE',
      'BAD_REQUEST',
    ] as const) {
      const page = authenticating(IDENTITY);
      page.helper({ type: 'error', id: '2', code, message: '', triesLeft: 2 });
      collect(page.view);
    }
    const page = authenticating(IDENTITY);
    for (const progress of ['pin-entry', 'pin-pad', 'signing'] as const) {
      page.helper({ type: 'progress', id: '2', step: progress, triesLeft: 1 });
      collect(page.view);
    }
    expect([...keys].filter((key) => /^(identity|IDENTITY_)/.test(key)).length).toBeGreaterThanOrEqual(8);
    for (const locale of LOCALES) {
      const texts = messagesOf(locale) as Record<string, string>;
      for (const key of keys)
        expect({ locale, key, present: key in texts }).toEqual({ locale, key, present: true });
      // The identity words name the signing password, never the 4-digit PIN.
      expect(texts.IDENTITY_PIN_INCORRECT).not.toBe(texts.HELPER_PIN_INCORRECT);
      expect(texts.identityStatePinWindow).toMatch(
        locale === 'ja' ? /署名用電子証明書のパスワード/ : /password/,
      );
    }
  });
});
