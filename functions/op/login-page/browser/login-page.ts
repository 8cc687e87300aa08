/**
 * The login page's DOM binding: reads the page (the data attributes of `#myna-login`, the texts
 * of `#myna-texts` in the page's language), feeds the flow (login-flow.ts) the browser's events,
 * runs the effects it returns with the browser's APIs and shows each view. Type-checked against
 * the DOM library (browser/tsconfig.json); main.ts starts it, nothing runs at import.
 *
 * It never touches a PIN: the page has no PIN field; the person types the PIN into the helper's
 * own window.
 */
import type { HelperMessage } from '../../../../protocol/helper-protocol.js';
import { fill } from '../messages.js';
import {
  type FlowConfig,
  type FlowEffect,
  type FlowEvent,
  type FlowState,
  type FlowView,
  initialFlow,
  type LoginReply,
  NAVIGATION_STALL_MS,
  type PermissionReading,
  step,
  type Text,
} from './login-flow.js';

/** The names Chromium and Firefox give the Local Network Access permission for 127.0.0.1 (newest first). */
const PERMISSION_NAMES = ['loopback-network', 'local-network-access'];
/** A permission query that has not answered by then counts as `unsupported` (the page must not hang). */
const PERMISSION_QUERY_MS = 2_000;

function elementById<T extends HTMLElement>(document: Document, id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the login page has no #${id}`);
  return element as T;
}

/**
 * Takes the first page's ticket (`?ticket=`, functions/op/interactions/page-ticket.ts) out of the
 * address: it made this one page. A reload, Back, a bookmark or another tab then asks the OP for
 * the page again, which knows whether the sign-in is still on and gives it a new challenge (the
 * ticket's may have been answered).
 */
function forgetTicket(window: Window): void {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('ticket')) return;
  url.searchParams.delete('ticket');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

/** The flow's configuration from the page. */
function pageConfig(window: Window, root: HTMLElement): FlowConfig {
  const { dataset } = root;
  const { location } = window;
  return {
    mode: dataset.mode === 'card-answer' ? 'card-answer' : 'login',
    purpose: dataset.purpose === 'verify-identity' ? 'verify-identity' : 'sign-in',
    ...(dataset.nonce ? { nonce: dataset.nonce } : {}),
    challengeTtlSeconds: Number(dataset.challengeTtl) || 0,
    helperPort: Number(dataset.helperPort),
    loginUrl: dataset.loginUrl ?? '',
    challengeUrl: dataset.challengeUrl ?? '',
    returnUrl: dataset.returnUrl ?? '',
    site: location.origin,
    language: window.document.documentElement.lang === 'en' ? 'en' : 'ja',
    userAgent: window.navigator.userAgent,
    pageProtocol: location.protocol,
    pageHostname: location.hostname,
  };
}

/** The Local Network Access permission state, by either name; `unsupported` when neither is known. */
async function queryPermission(navigator: Navigator): Promise<PermissionReading> {
  if (!navigator.permissions) return 'unsupported';
  for (const name of PERMISSION_NAMES) {
    try {
      return (await navigator.permissions.query({ name } as unknown as PermissionDescriptor)).state;
    } catch {
      // Not a permission this browser knows: try the other name.
    }
  }
  return 'unsupported';
}

/** queryPermission, or `unsupported` after PERMISSION_QUERY_MS. */
function readPermission(window: Window): Promise<PermissionReading> {
  const late = new Promise<PermissionReading>((resolve) =>
    window.setTimeout(() => resolve('unsupported'), PERMISSION_QUERY_MS),
  );
  return Promise.race([queryPermission(window.navigator), late]);
}

/** A same-origin JSON POST; the parsed reply, or undefined when the OP could not be reached or read. */
async function postJson(url: string, body: unknown): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const reply: unknown = await response.json();
    return typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function opError(value: unknown): { code: string; message: string } | undefined {
  const error = value as { code?: unknown; message?: unknown } | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : undefined;
}

/** Starts the login page in `window` (the page must have `#myna-login`). */
export function startLoginPage(window: Window): void {
  const { document, location, history } = window;
  const root = elementById(document, 'myna-login');
  const status = elementById(document, 'status');
  const alertBox = elementById(document, 'alert');
  const hint = elementById(document, 'hint');
  const guide = elementById(document, 'guide');
  const start = elementById<HTMLButtonElement>(document, 'start');
  const retry = elementById<HTMLButtonElement>(document, 'retry');
  const texts = new Map(
    [...document.querySelectorAll<HTMLElement>('#myna-texts [data-key]')].map((node) => [
      node.dataset.key ?? '',
      node.textContent ?? '',
    ]),
  );
  const config = pageConfig(window, root);
  const now = () => window.performance.now();
  forgetTicket(window);

  const render = (text: Text): string => {
    const template = texts.get(text.key) ?? text.key;
    if (!text.params) return template;
    const values = Object.entries(text.params).map(([name, value]) => [
      name,
      typeof value === 'object' ? render(value) : value,
    ]);
    return fill(template, Object.fromEntries(values));
  };

  let shown: { status: string; focus?: FlowView['focus'] } | undefined;
  const show = (view: FlowView) => {
    const statusText = render(view.status);
    status.textContent = statusText;
    alertBox.textContent = view.alert ? render(view.alert) : '';
    hint.textContent = view.hint ? render(view.hint) : '';
    hint.hidden = !view.hint;
    start.hidden = !view.start;
    retry.hidden = !view.retry;
    guide.hidden = !view.guide;
    // Move the focus only when the page enters a new state, not on every update.
    if (view.focus && (view.focus !== shown?.focus || statusText !== shown.status)) {
      ({ start, retry, alert: alertBox })[view.focus].focus();
    }
    shown = { status: statusText, ...(view.focus ? { focus: view.focus } : {}) };
  };

  let state: FlowState;
  let socket: WebSocket | undefined;
  const queue: FlowEvent[] = [];
  let running = false;
  /** Events are handled one at a time, in order, also when an effect reports synchronously. */
  const drain = () => {
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) apply(step(state, next, now()));
    } finally {
      running = false;
    }
  };
  const dispatch = (event: FlowEvent) => {
    queue.push(event);
    drain();
  };
  const apply = (transition: { state: FlowState; view: FlowView; effects: readonly FlowEffect[] }) => {
    state = transition.state;
    show(transition.view);
    for (const effect of transition.effects) run(effect);
  };

  const openSocket = (url: string) => {
    let current: WebSocket;
    try {
      current = new WebSocket(url);
    } catch {
      dispatch({ type: 'socket-closed' });
      return;
    }
    socket = current;
    const own = (handler: (event: Event) => void) => (event: Event) => {
      if (socket === current) handler(event);
    };
    current.addEventListener(
      'open',
      own(() => dispatch({ type: 'socket-open' })),
    );
    current.addEventListener(
      'message',
      own((event) => {
        let message: unknown;
        try {
          message = JSON.parse(String((event as MessageEvent).data));
        } catch {
          message = undefined;
        }
        const typed = typeof (message as { type?: unknown } | undefined)?.type === 'string';
        dispatch(
          typed ? { type: 'helper-message', message: message as HelperMessage } : { type: 'helper-garbage' },
        );
      }),
    );
    const closed = own(() => {
      socket = undefined;
      dispatch({ type: 'socket-closed' });
    });
    current.addEventListener('error', closed);
    current.addEventListener('close', closed);
  };

  const run = (effect: FlowEffect) => {
    switch (effect.type) {
      case 'query-permission':
        void readPermission(window).then((reading) => dispatch({ type: 'permission', state: reading }));
        return;
      case 'open-socket':
        openSocket(effect.url);
        return;
      case 'close-socket': {
        const current = socket;
        socket = undefined;
        current?.close();
        return;
      }
      case 'send':
        socket?.send(JSON.stringify(effect.message));
        return;
      case 'renew-challenge':
        void postJson(config.challengeUrl, {}).then((reply) => {
          const { nonce, ttlSeconds } = reply ?? {};
          if (typeof nonce === 'string' && typeof ttlSeconds === 'number') {
            dispatch({ type: 'challenge-renewed', nonce, ttlSeconds });
          } else {
            const error = opError(reply?.error);
            dispatch({ type: 'challenge-refused', ...(error ? { error } : {}) });
          }
        });
        return;
      case 'post-answer':
        void postJson(config.loginUrl, effect.answer).then((reply) =>
          dispatch(reply ? { type: 'login-reply', reply: reply as LoginReply } : { type: 'login-failed' }),
        );
        return;
      case 'open-helper-page':
        location.assign(effect.url);
        window.setTimeout(() => dispatch({ type: 'navigation-stalled' }), NAVIGATION_STALL_MS);
        return;
      case 'go':
        location.assign(effect.url);
        return;
      case 'clear-fragment':
        history.replaceState(history.state, '', `${location.pathname}${location.search}`);
        return;
    }
  };

  start.addEventListener('click', () => dispatch({ type: 'start' }));
  retry.addEventListener('click', () => dispatch({ type: 'retry' }));
  // Back from the helper's page may restore this page as it was left ("opening the helper…").
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });

  running = true;
  try {
    apply(initialFlow(config, now()));
  } finally {
    running = false;
  }
  if (config.mode === 'card-answer') queue.push({ type: 'card-answer', hash: location.hash });
  drain();
}
