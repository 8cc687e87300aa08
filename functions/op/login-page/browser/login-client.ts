/**
 * The login page's browser script (bundled by login-script.ts into one IIFE; no inline script).
 * It talks to the reader-helper over ws://127.0.0.1:PORT, shows every state in plain words (texts
 * come from the page, in the page's language), sends `authenticate` with the OP's nonce and the
 * PIN, then POSTs only the certificate and signature to the OP and follows its redirect.
 * The PIN is read from the field once per attempt and the field is cleared; it is never stored.
 */
import {
  type AuthenticateResponse,
  type ErrorResponse,
  type HelperMessage,
  type HelperRequest,
  PROTOCOL_VERSION,
  type ReaderInfo,
  USER_AUTH_PIN_PATTERN,
} from '../../../../protocol/helper-protocol.js';
import { fill } from '../messages.js';
import type {
  InputElement,
  PageDocument,
  PageElement,
  PageLocation,
  PageNavigator,
  PageSocket,
} from './dom.js';

declare const document: PageDocument;
declare const navigator: PageNavigator;
declare const location: PageLocation;
declare const WebSocket: new (url: string) => PageSocket;

type Phase = 'connecting' | 'waiting' | 'pin' | 'signing' | 'sending' | 'done';

const root = document.getElementById('myna-login') as PageElement;
const texts = new Map(
  [...document.querySelectorAll('#myna-texts [data-key]')].map((node) => [
    node.dataset.key ?? '',
    node.textContent ?? '',
  ]),
);
const byId = <T extends PageElement>(id: string) => document.getElementById(id) as T;
const status = byId<PageElement>('status');
const alertBox = byId<PageElement>('alert');
const guide = byId<PageElement>('guide');
const retry = byId<PageElement>('retry');
const form = byId<PageElement>('pin-form');
const pinInput = byId<InputElement>('pin');
const lastTry = byId<PageElement>('last-try');
const confirmLastTry = byId<InputElement>('confirm-last-try');

const port = Number(root.dataset.helperPort);
const loginUrl = root.dataset.loginUrl ?? '';
let nonce = root.dataset.nonce ?? '';
let phase: Phase = 'connecting';
let socket: PageSocket | undefined;
/** The helper answered hello with an older protocol than this page speaks. */
let helperOutdated = false;
let requestCount = 0;

function t(key: string): string {
  return texts.get(key) ?? key;
}

interface View {
  readonly alert?: string;
  readonly guide?: boolean;
  readonly retry?: boolean;
  readonly pin?: boolean;
}

/** Shows a state: the status line (live region), an optional alert, and which controls are usable. */
function show(next: Phase, text: string, view: View = {}): void {
  phase = next;
  status.textContent = text;
  alertBox.textContent = view.alert ?? '';
  guide.hidden = !view.guide;
  retry.hidden = !view.retry;
  form.hidden = !view.pin;
  if (view.pin) pinInput.focus();
  else if (view.retry) retry.focus();
}

function send(request: HelperRequest): void {
  socket?.send(JSON.stringify(request));
}

function nextId(): string {
  requestCount += 1;
  return String(requestCount);
}

function connect(): void {
  show('connecting', t('stateLooking'));
  let opened = false;
  let current: PageSocket;
  try {
    current = new WebSocket(`ws://127.0.0.1:${port}`);
  } catch {
    showBlocked(t('stateBlockedSafari'));
    return;
  }
  socket = current;
  current.addEventListener('open', () => {
    opened = true;
    send({ type: 'hello', id: nextId() });
  });
  current.addEventListener('message', (event) => {
    try {
      handle(JSON.parse(String(event.data)) as HelperMessage);
    } catch {
      show('waiting', t('HELPER_BAD_REQUEST'), { retry: true });
    }
  });
  current.addEventListener('close', () => {
    if (socket !== current || phase === 'done' || phase === 'sending') return;
    if (opened) showUnreachable();
    else void unreachable();
  });
}

/** Not running, or not set up for this site: the page cannot tell, so it says both. */
function showUnreachable(): void {
  show('waiting', t('stateNoHelper'), { alert: t('stateNoHelperReasons'), guide: true, retry: true });
}

function showBlocked(detail: string): void {
  show('waiting', t('stateBlocked'), { alert: detail, retry: true });
}

/**
 * The helper could not be reached: tell "blocked by the browser" from "not running" where we can.
 * A Local Network Access permission still at "prompt" does not mean blocked (the browser asks when
 * it applies, and a page on localhost needs no permission), so only "denied" counts as blocked.
 */
async function unreachable(): Promise<void> {
  const permission = await navigator.permissions
    ?.query({ name: 'local-network-access' })
    .catch(() => undefined);
  const ua = navigator.userAgent;
  const safari = /Safari\//.test(ua) && !/Chrome\/|Chromium\/|Edg\//.test(ua);
  if (permission?.state === 'denied') showBlocked(t('stateBlockedPrompt'));
  else if (safari && location.protocol === 'https:') showBlocked(t('stateBlockedSafari'));
  else showUnreachable();
}

function handle(message: HelperMessage): void {
  switch (message.type) {
    case 'hello':
      // A helper speaking an older protocol than this page cannot serve it: say so, never guess.
      helperOutdated = message.protocolVersion < PROTOCOL_VERSION;
      if (helperOutdated) show('waiting', t('stateHelperOutdated'), { guide: true, retry: true });
      else readersChanged(message.readers);
      break;
    case 'readers':
      readersChanged(message.readers);
      break;
    case 'authenticated':
      void submitAnswer(message);
      break;
    case 'error':
      helperError(message);
      break;
    case 'cancelled':
      break;
  }
}

function readersChanged(readers: readonly ReaderInfo[]): void {
  if (helperOutdated || phase === 'signing' || phase === 'sending' || phase === 'done') return;
  if (readers.some((reader) => reader.card === 'jpki')) {
    if (phase !== 'pin') show('pin', t('statePin'), { pin: true });
  } else if (readers.length === 0) show('waiting', t('stateNoReader'));
  else if (readers.some((reader) => reader.card === 'not-jpki')) show('waiting', t('stateNotJpki'));
  else show('waiting', t('stateNoCard'));
}

function helperError(error: ErrorResponse): void {
  const base = t(`HELPER_${error.code}`);
  // LAST_TRY's own text already says that one try is left.
  const text =
    error.triesLeft === undefined || error.code === 'LAST_TRY'
      ? base
      : fill(t(error.triesLeft === 1 ? 'triesLeftOne' : 'triesLeft'), { message: base, n: error.triesLeft });
  if (error.code === 'PIN_BLOCKED') {
    show('waiting', t('statePin'), { alert: text });
    return;
  }
  if (error.code === 'LAST_TRY') lastTry.hidden = false;
  const cardGone = error.code === 'NO_CARD' || error.code === 'NO_READER' || error.code === 'CARD_REMOVED';
  if (cardGone) show('waiting', t('stateNoCard'), { alert: text });
  else show('pin', t('statePin'), { alert: text, pin: true });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const pin = pinInput.value;
  pinInput.value = '';
  if (!USER_AUTH_PIN_PATTERN.test(pin)) {
    show('pin', t('statePin'), { alert: t('HELPER_PIN_FORMAT'), pin: true });
    return;
  }
  show('signing', t('stateSigning'));
  send({ type: 'authenticate', id: nextId(), nonce, pin, confirmLastTry: confirmLastTry.checked });
});

retry.addEventListener('click', () => {
  socket?.close();
  connect();
});

interface LoginReply {
  readonly redirectTo?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly nonce?: string;
}

async function submitAnswer(answer: AuthenticateResponse): Promise<void> {
  show('sending', t('stateSending'));
  let reply: LoginReply;
  try {
    const response = await fetch(loginUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ certificate: answer.certificate, signature: answer.signature }),
    });
    reply = (await response.json()) as LoginReply;
  } catch {
    show('pin', t('statePin'), { alert: t('ANSWER_MALFORMED'), pin: true });
    return;
  }
  if (reply.redirectTo) {
    show('done', t('stateVerified'));
    socket?.close();
    location.assign(reply.redirectTo);
    return;
  }
  const alert = fill(t('withCode'), { message: reply.error?.message ?? '', code: reply.error?.code ?? '?' });
  if (reply.nonce) {
    nonce = reply.nonce;
    show('pin', t('statePin'), { alert, pin: true });
  } else show('done', t('errorTitle'), { alert });
}

connect();
