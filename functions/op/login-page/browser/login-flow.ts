/**
 * The login page's flow as a pure state machine: `step(state, event, now) → { state, view, effects }`.
 * No DOM, no globals, nothing runs at import; the DOM binding (login-page.ts) feeds it events
 * (permission state, clicks, socket events, the helper's messages, the OP's replies, the
 * card-answer fragment) and runs the effects it returns (query the permission, open the socket,
 * send a message, renew the challenge, post the answer, navigate, clear the fragment), then shows
 * the view (texts are message keys: the page renders every text in its own language).
 *
 * The page never sees a PIN: the person types it into the helper's own window (or the reader's
 * keypad). Two ways to reach the helper (protocol/helper-protocol.ts):
 * - **WebSocket** ws://127.0.0.1:PORT. Chromium/Edge gate it behind the Local Network Access
 *   permission (`loopback-network`): `granted` connects at once; otherwise the socket is opened
 *   only on the click of "Sign in" (no prompt on page load), and a `prompt` state is explained
 *   before the browser asks. A socket that fails before opening while the permission is not
 *   granted (blocked, dismissed, headless) falls back to navigation by itself; with the permission
 *   granted, or where it does not apply, the helper is unreachable (not running / not set up).
 * - **Navigation** to http://127.0.0.1:PORT/authenticate, which brings the browser back to the
 *   card-answer page with the answer in the fragment: Safari on https (WebKit blocks the socket as
 *   mixed content), a denied permission, and the fallback above.
 *
 * Two purposes, one flow (`FlowConfig.purpose`): a sign-in (`authenticate`: the user-auth
 * certificate, PIN of 4 digits) and, on the identity step after it, an identity verification
 * (`verify-identity`: the signing certificate, signed with the signing key after the signing
 * password of 6–16 uppercase letters and digits, 5 tries). The identity step has its own words for
 * every state and every helper error that speaks of the PIN (`IDENTITY_TEXTS`), says the tries
 * the password has left before its window opens, and takes an old helper's BAD_REQUEST (it does
 * not know `verify-identity`), or a sign-in answer where an identity answer belongs (an old helper
 * on the navigation path ignores `purpose`), as "update the helper".
 *
 * A challenge with less than CHALLENGE_RENEW_BELOW_SECONDS (defaults.ts) left is renewed before any
 * `authenticate` or navigation, so no PIN entry is spent on a challenge that expires under it.
 * `now` (milliseconds, any monotonic clock) is passed to every step instead of a timer, so a
 * throttled timer of a background tab cannot leave a stale challenge in use.
 */
import {
  authenticateNavigationUrl,
  type CardOperationPurpose,
  decodeCardAnswer,
  type HelperErrorCode,
  type HelperLanguage,
  type HelperMessage,
  type HelperRequest,
  PROTOCOL_VERSION,
  type ProgressStep,
  type ReaderInfo,
} from '../../../../protocol/helper-protocol.js';
import { SIGNING_PIN } from '../../../../protocol/jpki-profile.js';
import { CHALLENGE_RENEW_BELOW_SECONDS } from '../../../defaults.js';
import type { MessageKey } from '../messages.js';

/**
 * How long after navigating to the helper's page the page, still shown, offers "Try again": a
 * navigation that commits unloads the page first; the helper answers each GET within 20 s
 * (reader-helper/daemon/navigation.ts NAVIGATION_HOLD_MS).
 */
export const NAVIGATION_STALL_MS = 25_000;

/** The Local Network Access permission as the page could read it (`unsupported`: no such permission). */
export type PermissionReading = 'granted' | 'prompt' | 'denied' | 'unsupported';

/** The browser family, for the words of its permission prompt and settings (from the user agent). */
export type BrowserFamily = 'chromium' | 'firefox' | 'safari' | 'other';

/** What the page is and where things are, from its data attributes and location. */
export interface FlowConfig {
  /** `login`: the page of a new sign-in; `card-answer`: the helper brought the browser back. */
  readonly mode: 'login' | 'card-answer';
  /** What the card does here: sign in, or verify the identity (the interaction's identity step). */
  readonly purpose: CardOperationPurpose;
  /** The challenge the page was served with (login mode). */
  readonly nonce?: string;
  /** Seconds the challenge has left when the page was served (0: unknown, renew before use). */
  readonly challengeTtlSeconds: number;
  readonly helperPort: number;
  /** Where the answer is posted (JSON): the login URL, or the identity URL on the identity step. */
  readonly loginUrl: string;
  /** Where a new challenge is asked for (POST, JSON). */
  readonly challengeUrl: string;
  /** The absolute card-answer URL the helper returns to on the navigation path. */
  readonly returnUrl: string;
  /** The page's origin: the site the helper's window names and signs for. */
  readonly site: string;
  readonly language: HelperLanguage;
  readonly userAgent: string;
  /** The page's scheme and host: Safari blocks the socket from https; LNA does not gate loopback pages. */
  readonly pageProtocol: string;
  readonly pageHostname: string;
}

/** A text of the page: a message key and its placeholders (a placeholder may be a text itself). */
export interface Text {
  readonly key: MessageKey;
  readonly params?: Readonly<Record<string, string | number | Text>>;
}

/** What the page shows. */
export interface FlowView {
  /** The status line (a live region). */
  readonly status: Text;
  /** An error or warning (role=alert), if any. */
  readonly alert?: Text;
  /**
   * Guidance: before the click, why the browser will ask, how to re-allow, what happens next;
   * when the helper cannot be reached, the possible causes.
   */
  readonly hint?: Text;
  /** The "Sign in with MyNumber card" button. */
  readonly start: boolean;
  /** The "Try again" button. */
  readonly retry: boolean;
  /** Links to the helper's status page on this PC and to the install guide. */
  readonly guide: boolean;
  /** Where the keyboard focus goes when this view appears. */
  readonly focus?: 'start' | 'retry' | 'alert';
}

/** Something the DOM binding does for the flow; its outcome comes back as an event. */
export type FlowEffect =
  /** Read the Local Network Access permission → `permission`. */
  | { readonly type: 'query-permission' }
  /** Open the WebSocket → `socket-open` / `socket-closed`, `helper-message`. */
  | { readonly type: 'open-socket'; readonly url: string }
  | { readonly type: 'close-socket' }
  | { readonly type: 'send'; readonly message: HelperRequest }
  /** POST the challenge URL → `challenge-renewed` / `challenge-refused`. */
  | { readonly type: 'renew-challenge' }
  /** POST the card's answer (JSON) to the login URL → `login-reply` / `login-failed`. */
  | { readonly type: 'post-answer'; readonly answer: PostedAnswer }
  /**
   * Top-level navigation to the helper's page (the navigation path); `navigation-stalled` after
   * NAVIGATION_STALL_MS if the page is still there.
   */
  | { readonly type: 'open-helper-page'; readonly url: string }
  /** Top-level navigation where the OP sent the sign-in next. */
  | { readonly type: 'go'; readonly url: string }
  /** Remove the card answer from the address bar (history.replaceState), before it is posted. */
  | { readonly type: 'clear-fragment' };

/**
 * What the page posts: a sign-in's certificate and signature, or an identity verification's two
 * certificates and signature (base64url, as the helper sent them).
 */
export type PostedAnswer =
  | { readonly certificate: string; readonly signature: string }
  | { readonly userAuthCertificate: string; readonly signingCertificate: string; readonly signature: string };

/** The OP's JSON answer to a posted card answer. */
export interface LoginReply {
  readonly redirectTo?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** A fresh challenge when the interaction can try again. */
  readonly nonce?: string;
  readonly ttlSeconds?: number;
}

/** What happens to the page. */
export type FlowEvent =
  | { readonly type: 'permission'; readonly state: PermissionReading }
  /** Click on "Sign in with MyNumber card". */
  | { readonly type: 'start' }
  /** Click on "Try again". */
  | { readonly type: 'retry' }
  | { readonly type: 'socket-open' }
  /** The socket's `error` or `close` (or its constructor threw). */
  | { readonly type: 'socket-closed' }
  | { readonly type: 'helper-message'; readonly message: HelperMessage }
  /** A message from the helper that is not JSON. */
  | { readonly type: 'helper-garbage' }
  | { readonly type: 'challenge-renewed'; readonly nonce: string; readonly ttlSeconds: number }
  /** The OP refused a new challenge (`error`), or could not be reached (no `error`). */
  | {
      readonly type: 'challenge-refused';
      readonly error?: { readonly code: string; readonly message: string };
    }
  | { readonly type: 'login-reply'; readonly reply: LoginReply }
  /** The answer could not be posted, or the reply was not JSON. */
  | { readonly type: 'login-failed' }
  /** The card-answer page's fragment (`location.hash`), on load. */
  | { readonly type: 'card-answer'; readonly hash: string }
  /**
   * The page is still here NAVIGATION_STALL_MS after it navigated to the helper's page (the
   * person pressed Esc, the navigation failed, the helper did not answer): the binding's timer.
   */
  | { readonly type: 'navigation-stalled' };

/** What the flow is doing. */
type Activity =
  /** Reading the permission (first, or after a socket failed before opening). */
  | { readonly kind: 'checking'; readonly afterSocketFailure: boolean }
  /** Waiting: for the click, the helper's hello, or a MyNumber card. */
  | { readonly kind: 'idle'; readonly alert?: Text }
  | { readonly kind: 'renewing'; readonly next: 'authenticate' | 'navigate'; readonly fallback?: boolean }
  | {
      readonly kind: 'authenticating';
      readonly id: string;
      readonly step?: ProgressStep;
      /** The tries the PIN (signing password) had left before its entry, as the helper said. */
      readonly triesLeft?: number;
    }
  | { readonly kind: 'navigating'; readonly fallback: boolean }
  | { readonly kind: 'posting' }
  | { readonly kind: 'redirecting' }
  /** Not signed in; "Try again" is offered. */
  | {
      readonly kind: 'failed';
      readonly status: Text;
      readonly alert?: Text;
      readonly hint?: Text;
      readonly guide?: boolean;
    }
  /** Nothing more this page can do (PIN blocked, sign-in over). */
  | { readonly kind: 'final'; readonly status: Text; readonly alert: Text };

/** The whole state of the page's flow. */
export interface FlowState {
  readonly config: FlowConfig;
  readonly browser: BrowserFamily;
  readonly path: 'websocket' | 'navigation';
  readonly permission?: PermissionReading;
  readonly socket: 'none' | 'connecting' | 'open' | 'closed';
  /** The helper's readers (after its hello). */
  readonly readers?: readonly ReaderInfo[];
  /** The person clicked "Sign in" (authenticate as soon as a card is there). */
  readonly started: boolean;
  readonly nonce?: string;
  /** When the challenge expires, on the `now` clock (0: unknown). */
  readonly challengeExpiresAt: number;
  readonly requests: number;
  readonly activity: Activity;
}

/** One step's result. */
export interface Transition {
  readonly state: FlowState;
  readonly view: FlowView;
  readonly effects: readonly FlowEffect[];
}

/**
 * The browser family of a user agent string. `safari` is every WebKit browser (Safari, every
 * browser on iOS, GNOME Web): `Safari/` or `AppleWebKit/` without Chrome, Chromium or Edge.
 */
export function browserFamily(userAgent: string): BrowserFamily {
  if (/Firefox\//.test(userAgent)) return 'firefox';
  if (/Chrome\/|Chromium\/|Edg\//.test(userAgent)) return 'chromium';
  if (/Safari\/|AppleWebKit\//.test(userAgent)) return 'safari';
  return 'other';
}

/** A page on a loopback host: Local Network Access does not apply (nothing is asked). */
function loopbackPage(hostname: string): boolean {
  return /^(localhost|.+\.localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(hostname);
}

const text = (key: MessageKey, params?: Text['params']): Text => (params ? { key, params } : { key });

/**
 * The identity step's own words for the texts that speak of the PIN, of signing in, or of where
 * the page goes next (the others are the same for both purposes).
 */
const IDENTITY_TEXTS: Partial<Record<MessageKey, MessageKey>> = {
  stateReady: 'identityStateReady',
  statePinWindow: 'identityStatePinWindow',
  statePinPad: 'identityStatePinPad',
  stateSigning: 'identityStateSigning',
  stateVerified: 'identityStateVerified',
  statePinBlocked: 'identityStatePinBlocked',
  stateHelperOutdated: 'identityHelperOutdated',
  hintNavigation: 'identityHintNavigation',
  HELPER_PIN_INCORRECT: 'IDENTITY_PIN_INCORRECT',
  HELPER_PIN_BLOCKED: 'IDENTITY_PIN_BLOCKED',
  HELPER_USER_CANCELLED: 'IDENTITY_USER_CANCELLED',
  HELPER_PIN_ENTRY_UNAVAILABLE: 'IDENTITY_PIN_ENTRY_UNAVAILABLE',
  HELPER_BAD_REQUEST: 'identityHelperOutdated',
};

/** The text of `key` for the purpose of `state`'s page. */
function says(state: FlowState, key: MessageKey, params?: Text['params']): Text {
  const own = state.config.purpose === 'verify-identity' ? IDENTITY_TEXTS[key] : undefined;
  return text(own ?? key, params);
}

/** The text of a helper error code, with the tries left where the card said. */
function helperErrorText(state: FlowState, code: HelperErrorCode, triesLeft?: number): Text {
  const message = says(state, `HELPER_${code}`);
  if (triesLeft === undefined || code === 'PIN_BLOCKED') return message;
  return text(triesLeft === 1 ? 'triesLeftOne' : 'triesLeft', { message, n: triesLeft });
}

/** The status line that says what the readers need. */
function readersText(readers: readonly ReaderInfo[]): Text {
  if (readers.length === 0) return text('stateNoReader');
  if (readers.some((reader) => reader.card === 'not-jpki')) return text('stateNotJpki');
  return text('stateNoCard');
}

const hasCard = (readers: readonly ReaderInfo[] | undefined) =>
  readers?.some((reader) => reader.card === 'jpki') ?? false;

/** The page's starting state and what it does first. */
export function initialFlow(config: FlowConfig, now: number): Transition {
  const browser = browserFamily(config.userAgent);
  const base: FlowState = {
    config,
    browser,
    path: 'websocket',
    socket: 'none',
    started: false,
    ...(config.nonce ? { nonce: config.nonce } : {}),
    challengeExpiresAt: config.challengeTtlSeconds > 0 ? now + config.challengeTtlSeconds * 1000 : 0,
    requests: 0,
    activity: { kind: 'checking', afterSocketFailure: false },
  };
  // The card-answer page waits for its fragment (the `card-answer` event).
  if (config.mode === 'card-answer') return done({ ...base, path: 'navigation' });
  if (browser === 'safari' && config.pageProtocol === 'https:') {
    return done({ ...base, path: 'navigation', activity: { kind: 'idle' } });
  }
  if (loopbackPage(config.pageHostname)) return connect({ ...base, permission: 'unsupported' });
  return done(base, { type: 'query-permission' });
}

/** The next state of `state` after `event` at `now`. */
export function step(state: FlowState, event: FlowEvent, now: number): Transition {
  const { activity } = state;
  switch (event.type) {
    case 'permission':
      return permissionRead(state, event.state, now);
    case 'start':
      if (state.started || activity.kind !== 'idle') return done(state);
      return begin({ ...state, started: true }, now);
    case 'retry':
      if (activity.kind !== 'failed') return done(state);
      return begin({ ...state, started: true, activity: { kind: 'idle' } }, now);
    case 'socket-open':
      if (state.socket !== 'connecting') return done(state);
      return send({ ...state, socket: 'open' }, (id) => ({ type: 'hello', id }));
    case 'socket-closed':
      return socketClosed(state);
    case 'helper-message':
      return helperMessage(state, event.message, now);
    case 'helper-garbage':
      return fail(state, text('HELPER_BAD_REQUEST'));
    case 'challenge-renewed': {
      if (activity.kind !== 'renewing') return done(state);
      const renewed = { ...state, nonce: event.nonce, challengeExpiresAt: now + event.ttlSeconds * 1000 };
      return activity.next === 'authenticate'
        ? authenticate(renewed)
        : navigate(renewed, activity.fallback ?? false);
    }
    case 'challenge-refused':
      if (activity.kind !== 'renewing') return done(state);
      return event.error
        ? over(state, text('errorTitle'), opError(event.error))
        : fail(state, text('networkError'));
    case 'login-reply':
      return loginReply(state, event.reply, now);
    case 'login-failed':
      if (activity.kind !== 'posting') return done(state);
      // The OP may have consumed the challenge: take a new one for the next try.
      return fail({ ...state, challengeExpiresAt: 0 }, text('networkError'));
    case 'navigation-stalled':
      return state.activity.kind === 'navigating' ? fail(state, text('stateNavigationStalled')) : done(state);
    case 'card-answer':
      return cardAnswer(state, event.hash);
  }
}

/** The texts the view shows for `state`. */
export function viewOf(state: FlowState): FlowView {
  const { activity } = state;
  const none = { start: false, retry: false, guide: false };
  switch (activity.kind) {
    case 'checking':
      return { ...none, status: text(activity.afterSocketFailure ? 'stateLooking' : 'statePreparing') };
    case 'idle':
      return idleView(state, activity.alert);
    case 'renewing':
      return { ...none, status: text('statePreparing') };
    case 'authenticating':
      return { ...none, status: progressText(state, activity.step, activity.triesLeft) };
    case 'navigating':
      return { ...none, status: text(activity.fallback ? 'stateFallback' : 'stateNavigating') };
    case 'posting':
      return { ...none, status: text('stateSending') };
    case 'redirecting':
      return { ...none, status: says(state, 'stateVerified') };
    case 'failed':
      return {
        ...none,
        status: activity.status,
        ...(activity.alert ? { alert: activity.alert } : {}),
        ...(activity.hint ? { hint: activity.hint } : {}),
        retry: true,
        guide: activity.guide ?? false,
        focus: 'retry',
      };
    case 'final':
      return { ...none, status: activity.status, alert: activity.alert, focus: 'alert' };
  }
}

function idleView(state: FlowState, alert: Text | undefined): FlowView {
  const withAlert = alert ? { alert } : {};
  if (!state.started) {
    const status =
      state.readers && !hasCard(state.readers) ? readersText(state.readers) : says(state, 'stateReady');
    const hint = hintOf(state);
    return { status, ...(hint ? { hint } : {}), start: true, retry: false, guide: false };
  }
  const asking = state.socket === 'connecting' && state.permission === 'prompt';
  const status = state.socket === 'open' && state.readers ? readersText(state.readers) : text('stateLooking');
  return {
    // The browser's Local Network Access question is on screen now.
    status: asking ? text('stateAnswerPrompt') : status,
    ...(asking ? { hint: promptHint(state.browser) } : {}),
    ...withAlert,
    start: false,
    retry: false,
    guide: false,
  };
}

/** Before the click: what the browser will ask, how to re-allow the connection, or where the click leads. */
function hintOf(state: FlowState): Text | undefined {
  if (state.path === 'navigation') {
    if (state.permission !== 'denied') return says(state, 'hintNavigation');
    if (state.browser === 'chromium') return text('hintDeniedChromium');
    if (state.browser === 'firefox') return text('hintDeniedFirefox');
    return text('hintDeniedOther');
  }
  return state.permission === 'prompt' ? promptHint(state.browser) : undefined;
}

/** Why the browser will ask to reach this computer's local network, and what to answer. */
const promptHint = (browser: BrowserFamily) =>
  text(browser === 'firefox' ? 'hintPromptFirefox' : 'hintPromptChromium');

/**
 * What the helper is doing. On the identity step, a signing password with tries already spent
 * is said before its entry (the helper's window asks to confirm the last one).
 */
function progressText(state: FlowState, progress: ProgressStep | undefined, triesLeft?: number): Text {
  const site = { site: state.config.site };
  if (progress === 'pin-entry' || progress === 'pin-pad') {
    const entry = says(state, progress === 'pin-entry' ? 'statePinWindow' : 'statePinPad', site);
    const spent =
      state.config.purpose === 'verify-identity' &&
      triesLeft !== undefined &&
      triesLeft < SIGNING_PIN.maxTries;
    if (!spent) return entry;
    return text(triesLeft === 1 ? 'identityTriesBeforeOne' : 'identityTriesBefore', {
      message: entry,
      n: triesLeft,
    });
  }
  if (progress === 'signing') return says(state, 'stateSigning');
  return text('stateOpening');
}

function done(state: FlowState, ...effects: FlowEffect[]): Transition {
  return { state, view: viewOf(state), effects };
}

function fail(state: FlowState, alert: Text, guide = false): Transition {
  return done({
    ...state,
    activity: { kind: 'failed', status: text('stateTryAgain'), alert, ...(guide ? { guide } : {}) },
  });
}

function over(state: FlowState, status: Text, alert: Text): Transition {
  return done({ ...state, activity: { kind: 'final', status, alert } });
}

/** An OP refusal as the page shows it: the OP's own words (in the page's language) and its code. */
function opError(error: { readonly code: string; readonly message: string }): Text {
  return text('withCode', { message: error.message, code: error.code });
}

/** The socket is opened (or already there). */
function connect(state: FlowState): Transition {
  if (state.socket === 'connecting' || state.socket === 'open') return done(state);
  const url = `ws://127.0.0.1:${state.config.helperPort}`;
  return done(
    { ...state, socket: 'connecting', readers: undefined, activity: { kind: 'idle' } },
    {
      type: 'open-socket',
      url,
    },
  );
}

function permissionRead(state: FlowState, permission: PermissionReading, now: number): Transition {
  const { activity } = state;
  if (activity.kind !== 'checking') return done(state);
  const read = { ...state, permission };
  if (activity.afterSocketFailure) {
    // Allowed (or not gated) and still no socket: the helper is not there.
    if (permission === 'granted' || permission === 'unsupported') return unreachable(read);
    return navigate({ ...read, path: 'navigation', started: true }, true, now);
  }
  if (permission === 'granted') return connect(read);
  if (permission === 'denied') return done({ ...read, path: 'navigation', activity: { kind: 'idle' } });
  return done({ ...read, activity: { kind: 'idle' } });
}

/** After the click (or "Try again"): authenticate over the socket, or navigate to the helper. */
function begin(state: FlowState, now: number): Transition {
  if (state.path === 'navigation') return navigate(state, false, now);
  if (state.socket !== 'open') return connect(state);
  if (state.readers === undefined) return done(state);
  return hasCard(state.readers) ? authenticate(state, now) : done(state);
}

const fresh = (state: FlowState, now: number) =>
  state.nonce !== undefined && state.challengeExpiresAt - now >= CHALLENGE_RENEW_BELOW_SECONDS * 1000;

/**
 * Sends `authenticate` (or `verify-identity`) with the challenge; renews it first when `now` is
 * given and it is stale.
 */
function authenticate(state: FlowState, now?: number): Transition {
  if (now !== undefined && !fresh(state, now)) {
    return done(
      { ...state, activity: { kind: 'renewing', next: 'authenticate' } },
      { type: 'renew-challenge' },
    );
  }
  return send(state, (id) => ({
    type: state.config.purpose === 'verify-identity' ? 'verify-identity' : 'authenticate',
    id,
    nonce: state.nonce ?? '',
    language: state.config.language,
  }));
}

/** Navigates to the helper's page; renews the challenge first when `now` is given and it is stale. */
function navigate(state: FlowState, fallback: boolean, now?: number): Transition {
  if (now !== undefined && !fresh(state, now)) {
    return done(
      { ...state, activity: { kind: 'renewing', next: 'navigate', fallback } },
      { type: 'renew-challenge' },
    );
  }
  const { config } = state;
  const url = authenticateNavigationUrl(config.helperPort, {
    nonce: state.nonce ?? '',
    returnUrl: config.returnUrl,
    language: config.language,
    purpose: config.purpose,
  });
  const closing: FlowEffect[] =
    state.socket === 'open' || state.socket === 'connecting' ? [{ type: 'close-socket' }] : [];
  return done(
    {
      ...state,
      socket: closing.length ? 'closed' : state.socket,
      activity: { kind: 'navigating', fallback },
    },
    ...closing,
    { type: 'open-helper-page', url },
  );
}

/** Sends a request with the next id; an `authenticate` (`verify-identity`) becomes the activity. */
function send(state: FlowState, request: (id: string) => HelperRequest): Transition {
  const requests = state.requests + 1;
  const message = request(String(requests));
  const activity: Activity =
    message.type === 'authenticate' || message.type === 'verify-identity'
      ? { kind: 'authenticating', id: message.id }
      : state.activity;
  return done({ ...state, requests, activity }, { type: 'send', message });
}

function unreachable(state: FlowState): Transition {
  return done({
    ...state,
    socket: 'closed',
    readers: undefined,
    activity: {
      kind: 'failed',
      status: text('stateNoHelper'),
      hint: text('stateNoHelperReasons'),
      guide: true,
    },
  });
}

function socketClosed(state: FlowState): Transition {
  const { activity } = state;
  if (state.socket === 'none' || state.socket === 'closed') return done(state);
  const opened = state.socket === 'open';
  const closed: FlowState = { ...state, socket: 'closed' };
  // The answer is on its way to the OP (or the page is leaving): the helper is no longer needed.
  if (activity.kind === 'posting' || activity.kind === 'redirecting' || activity.kind === 'final') {
    return done(closed);
  }
  if (activity.kind === 'failed') return done(closed);
  if (!opened && state.permission !== 'granted' && state.permission !== 'unsupported') {
    // Blocked, dismissed or denied by the browser — or not running: the permission tells.
    return done(
      { ...closed, activity: { kind: 'checking', afterSocketFailure: true } },
      { type: 'query-permission' },
    );
  }
  return unreachable(closed);
}

function helperMessage(state: FlowState, message: HelperMessage, now: number): Transition {
  const { activity } = state;
  const current = activity.kind === 'authenticating' ? activity.id : undefined;
  switch (message.type) {
    case 'hello': {
      // A helper speaking an older protocol than this page cannot serve it (it would want the PIN here).
      if (message.protocolVersion < PROTOCOL_VERSION) {
        return done(
          {
            ...state,
            socket: 'closed',
            activity: { kind: 'failed', status: says(state, 'stateHelperOutdated'), guide: true },
          },
          { type: 'close-socket' },
        );
      }
      const greeted = { ...state, readers: readersOf(message.readers) };
      return state.started && activity.kind === 'idle' ? begin(greeted, now) : done(greeted);
    }
    case 'readers': {
      const updated = { ...state, readers: readersOf(message.readers) };
      // Waiting for a card after the click: it is there now.
      if (state.started && activity.kind === 'idle' && hasCard(updated.readers))
        return authenticate(updated, now);
      return done(updated);
    }
    case 'progress': {
      if (message.id !== current) return done(state);
      const { triesLeft } = message;
      const tries = typeof triesLeft === 'number' ? { triesLeft } : {};
      return done({
        ...state,
        activity: { kind: 'authenticating', id: message.id, step: message.step, ...tries },
      });
    }
    case 'authenticated':
      // A sign-in's answer is no identity verification (and the reverse).
      if (message.id !== current || state.config.purpose !== 'sign-in') return done(state);
      return post(state, { certificate: message.certificate, signature: message.signature });
    case 'identity-verified':
      if (message.id !== current || state.config.purpose !== 'verify-identity') return done(state);
      return post(state, {
        userAuthCertificate: message.userAuthCertificate,
        signingCertificate: message.signingCertificate,
        signature: message.signature,
      });
    case 'error':
      // An error for another request (or an old one) is not this sign-in's.
      if (message.id !== undefined && message.id !== current) return done(state);
      return helperError(state, message.code, message.triesLeft);
    case 'cancelled':
      if (message.id !== current) return done(state);
      return helperError(state, 'CANCELLED');
    default:
      // Whatever listens on the port may send anything: what the page does not know, it ignores.
      return done(state);
  }
}

/** Posts the card's answer to the OP. */
function post(state: FlowState, answer: PostedAnswer, ...before: FlowEffect[]): Transition {
  return done({ ...state, activity: { kind: 'posting' } }, ...before, { type: 'post-answer', answer });
}

/** The readers of a message (anything but a list counts as none). */
const readersOf = (value: unknown): readonly ReaderInfo[] =>
  Array.isArray(value)
    ? value.filter((reader): reader is ReaderInfo => typeof reader?.card === 'string')
    : [];

/** What a helper error means for this sign-in (from the socket, or the card-answer fragment). */
function helperError(state: FlowState, code: HelperErrorCode, triesLeft?: number): Transition {
  // The last try was wrong: the card is blocked now.
  if (code === 'PIN_INCORRECT' && triesLeft === 0) return helperError(state, 'PIN_BLOCKED');
  const alert = helperErrorText(state, code, triesLeft);
  switch (code) {
    case 'PIN_BLOCKED':
      // Final: no PIN entry is offered again; the text says where the PIN is reset.
      return over(state, says(state, 'statePinBlocked'), alert);
    case 'NO_READER':
    case 'NO_CARD':
    case 'NOT_JPKI':
    case 'CARD_REMOVED':
      // Over the socket the page sees the card arrive and authenticates again by itself.
      if (state.path === 'websocket' && state.socket === 'open') {
        return done({ ...state, activity: { kind: 'idle', alert } });
      }
      return fail(state, alert);
    case 'PIN_ENTRY_UNAVAILABLE':
      return fail(state, alert, true);
    case 'BAD_REQUEST':
      // On the identity step: a helper too old to know `verify-identity`, where to get a new one.
      return fail(state, alert, state.config.purpose === 'verify-identity');
    default:
      return fail(state, alert);
  }
}

function loginReply(state: FlowState, reply: LoginReply, now: number): Transition {
  if (state.activity.kind !== 'posting') return done(state);
  if (reply.redirectTo) {
    const closing: FlowEffect[] = state.socket === 'open' ? [{ type: 'close-socket' }] : [];
    return done(
      { ...state, socket: closing.length ? 'closed' : state.socket, activity: { kind: 'redirecting' } },
      ...closing,
      { type: 'go', url: reply.redirectTo },
    );
  }
  const alert = opError(reply.error ?? { code: 'ANSWER_MALFORMED', message: '' });
  if (!reply.nonce) return over(state, text('errorTitle'), alert);
  const expiresAt = reply.ttlSeconds ? now + reply.ttlSeconds * 1000 : 0;
  return fail({ ...state, nonce: reply.nonce, challengeExpiresAt: expiresAt }, alert);
}

function cardAnswer(state: FlowState, hash: string): Transition {
  if (state.config.mode !== 'card-answer' || state.activity.kind !== 'checking') return done(state);
  const clear: FlowEffect = { type: 'clear-fragment' };
  const answer = decodeCardAnswer(hash);
  const read = { ...state, activity: { kind: 'idle' } as const };
  if (!answer) {
    const { state: failed, view } = fail(read, text('stateAnswerUnreadable'));
    return { state: failed, view, effects: [clear] };
  }
  const identityAnswer = 'purpose' in answer;
  if (identityAnswer !== (state.config.purpose === 'verify-identity')) {
    // An identity page given a sign-in's answer: a helper that ignored `purpose` (too old).
    const { state: failed, view } = identityAnswer
      ? fail(read, text('stateAnswerUnreadable'))
      : fail(read, says(read, 'stateHelperOutdated'), true);
    return { state: failed, view, effects: [clear] };
  }
  if ('error' in answer) {
    const { state: next, view, effects } = helperError(read, answer.error.code, answer.error.triesLeft);
    return { state: next, view, effects: [clear, ...effects] };
  }
  if ('certificate' in answer) {
    return post(state, { certificate: answer.certificate, signature: answer.signature }, clear);
  }
  const { userAuthCertificate, signingCertificate, signature } = answer;
  return post(state, { userAuthCertificate, signingCertificate, signature }, clear);
}
