/**
 * A scripted browser and virtual card for the local stack: benchmarks and tests use it to drive the
 * OP like a browser and a relying party would.
 * - TestBrowser: a cookie jar (path-aware) over any fetch-like transport, redirects followed by hand;
 * - VirtualCardSigner: the card side exactly as the helper does it (CardService over the in-process
 *   reader backend with a VirtualJpkiCard), origin = the page's origin;
 * - the login steps (open the login page, post the card's answer, consent) and a whole RP login
 *   with openid-client (PKCE S256, state, nonce).
 */
import * as client from 'openid-client';
import { CardService } from '../reader-helper/card/card-service.js';
import type { CardIdentity } from '../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../reader-helper/virtual-card/virtual-jpki-card.js';

/** Something that answers fetch requests: global fetch, or an adapter to a Lambda handler. */
export type Transport = (url: string, init: RequestInit) => Promise<Response>;

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
}

/** A minimal browser: cookies per name and path, manual redirects, an Origin header on POSTs. */
export class TestBrowser {
  readonly #cookies = new Map<string, StoredCookie>();

  constructor(
    readonly transport: Transport = (url, init) => fetch(url, init),
    /** Headers sent with every request unless the request sets them (e.g. accept-language). */
    readonly defaultHeaders: Record<string, string> = {},
  ) {}

  /** One request (no redirect following) with the matching cookies; stores the response's cookies. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.defaultHeaders))
      if (!headers.has(name)) headers.set(name, value);
    const cookie = [...this.#cookies.values()]
      .filter((stored) => target.pathname.startsWith(stored.path))
      .map((stored) => `${stored.name}=${stored.value}`)
      .join('; ');
    if (cookie) headers.set('cookie', cookie);
    const response = await this.transport(target.href, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(line);
    return response;
  }

  /** GETs `url` and follows redirects until a non-redirect answer or a URL `stop` accepts. */
  async follow(url: string | URL, stop: (next: URL) => boolean): Promise<{ url: URL; response?: Response }> {
    let current = new URL(url);
    for (let hops = 0; hops < 20; hops++) {
      if (stop(current)) return { url: current };
      const response = await this.request(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response };
      await response.arrayBuffer();
      current = new URL(location, current);
    }
    throw new Error('too many redirects');
  }

  #store(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    const attribute = (key: string) =>
      attributes.find((part) => part.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute('path') ?? '/';
    const expires = attribute('expires');
    const expired =
      attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) < Date.now());
    const key = `${name}|${path}`;
    if (expired || value === '') this.#cookies.delete(key);
    else this.#cookies.set(key, { name, value, path });
  }
}

/** The card side of a login, as the reader-helper does it, with a count of signatures made. */
export class VirtualCardSigner {
  readonly #service: CardService;
  /** The virtual card itself (its `busyNanos` is the time spent inside the card). */
  readonly card: VirtualJpkiCard;
  signatures = 0;

  constructor(readonly identity: CardIdentity) {
    const backend = new InProcessReaderBackend(['Virtual Reader 0']);
    this.card = new VirtualJpkiCard(identity);
    backend.reader('Virtual Reader 0').insert(this.card);
    this.#service = new CardService(backend);
  }

  /** Signs the challenge (origin, nonce) with the card after the PIN, like `authenticate`. */
  async sign(origin: string, nonce: string): Promise<{ certificate: string; signature: string }> {
    const answer = await this.#service.authenticate({
      origin,
      nonce,
      pin: this.identity.userAuthPin,
      confirmLastTry: false,
      signal: new AbortController().signal,
    });
    this.signatures += 1;
    return {
      certificate: Buffer.from(answer.certificate).toString('base64url'),
      signature: Buffer.from(answer.signature).toString('base64url'),
    };
  }

  /** Releases the virtual reader. */
  close(): Promise<void> | void {
    return this.#service.close();
  }
}

/** A login page as the browser sees it. */
export interface LoginPage {
  readonly url: URL;
  readonly html: string;
  readonly nonce: string;
  readonly loginUrl: URL;
  readonly response: Response;
}

function attribute(html: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** Parses the login page's challenge and login URL out of its HTML. */
export async function readLoginPage(url: URL, response: Response): Promise<LoginPage> {
  const html = await response.text();
  const nonce = attribute(html, 'data-nonce');
  const login = attribute(html, 'data-login-url');
  if (!nonce || !login) throw new Error(`not a login page (${response.status}): ${html.slice(0, 300)}`);
  return { url, html, nonce, loginUrl: new URL(login, url), response };
}

/** What the OP answered to a posted login. */
export interface LoginReply {
  readonly status: number;
  readonly redirectTo?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly nonce?: string;
}

/** POSTs a card answer to the page's login URL as the login script does (JSON, same origin). */
export async function postAnswer(
  browser: TestBrowser,
  loginUrl: URL,
  answer: { certificate: string; signature: string },
  origin = loginUrl.origin,
): Promise<LoginReply> {
  const response = await browser.request(loginUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', origin },
    body: JSON.stringify(answer),
  });
  return { status: response.status, ...((await response.json()) as Omit<LoginReply, 'status'>) };
}

/** Submits the consent page's confirm (or abort) form, as a browser would. */
export async function answerConsent(
  browser: TestBrowser,
  pageUrl: URL,
  action: 'confirm' | 'abort',
): Promise<Response> {
  const target = new URL(`${pageUrl.pathname}/${action}`, pageUrl);
  return browser.request(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: pageUrl.origin },
    body: '',
  });
}

/** Where a sign-in ended: at the redirect URI, or on a page of the OP (login refused, consent…). */
export interface SignInResult {
  readonly callback?: URL;
  readonly page?: { readonly url: URL; readonly response: Response };
}

/**
 * Follows `authorizationUrl`; on the login page signs the challenge with `card` (origin = the OP's
 * origin, or `signOrigin`), posts it and follows the redirects; confirms consent when `consent`.
 */
export async function signIn(options: {
  readonly browser: TestBrowser;
  readonly authorizationUrl: URL;
  readonly redirectUri: string;
  readonly card: VirtualCardSigner;
  readonly consent?: boolean;
  readonly signOrigin?: string;
}): Promise<SignInResult> {
  const { browser, redirectUri, card } = options;
  const atCallback = (next: URL) => next.href.startsWith(redirectUri);
  let step = await browser.follow(options.authorizationUrl, atCallback);
  for (let rounds = 0; rounds < 4; rounds++) {
    if (!step.response) return { callback: step.url };
    if (step.url.pathname.split('/').length !== 3 || !step.url.pathname.startsWith('/interaction/')) {
      return { page: { url: step.url, response: step.response } };
    }
    const html = await step.response.clone().text();
    if (html.includes('data-nonce=')) {
      const page = await readLoginPage(step.url, step.response);
      const answer = await card.sign(options.signOrigin ?? page.url.origin, page.nonce);
      const reply = await postAnswer(browser, page.loginUrl, answer);
      if (!reply.redirectTo) throw new Error(`login refused: ${JSON.stringify(reply)}`);
      step = await browser.follow(new URL(reply.redirectTo, step.url), atCallback);
    } else if (options.consent && html.includes('/confirm')) {
      const response = await answerConsent(browser, step.url, 'confirm');
      step = await browser.follow(new URL(response.headers.get('location') ?? '/', step.url), atCallback);
    } else return { page: { url: step.url, response: step.response } };
  }
  throw new Error('sign-in did not finish');
}

/** An RP of the OP through openid-client (http issuer allowed, optional transport). */
export async function relyingParty(options: {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly transport?: Transport;
}): Promise<client.Configuration> {
  const fetchOption = options.transport
    ? {
        [client.customFetch]: (url: string, init: RequestInit) => (options.transport as Transport)(url, init),
      }
    : {};
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    options.clientSecret,
    options.clientSecret ? undefined : client.None(),
    { execute: [client.allowInsecureRequests], ...fetchOption },
  );
  return config;
}

/** One RP login: authorization URL with PKCE/state/nonce, sign-in with the card, code redemption. */
export async function rpLogin(options: {
  readonly rp: client.Configuration;
  readonly browser: TestBrowser;
  readonly card: VirtualCardSigner;
  readonly redirectUri: string;
  readonly scope?: string;
  readonly params?: Record<string, string>;
  readonly consent?: boolean;
}): Promise<{ tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers; callback: URL }> {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(options.rp, {
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...options.params,
  });
  const result = await signIn({ ...options, authorizationUrl });
  if (!result.callback) throw new Error(`sign-in stopped at ${result.page?.url.href}`);
  const tokens = await client.authorizationCodeGrant(options.rp, result.callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  return { tokens, callback: result.callback };
}
