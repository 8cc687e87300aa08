/**
 * A scripted browser and virtual card for the local stack: benchmarks and tests use it to drive the
 * OP like a browser and a relying party would.
 * - TestBrowser: sends what Chromium sends — cookies (host, path, SameSite) and Origin, Referer and
 *   Sec-Fetch-* from the initiator and the page's referrer policy — over any fetch-like transport
 *   (node:http by default), redirects followed by hand; test/e2e/consent.test.ts compares it with
 *   real Chromium;
 * - VirtualCardSigner: the card side exactly as the helper does it (CardService over the in-process
 *   reader backend with a VirtualJpkiCard), origin = the page's origin;
 * - the login steps (open the login page, post the card's answer, consent) and a whole RP login
 *   with openid-client (PKCE S256, state, nonce).
 */
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import * as client from 'openid-client';
import { ScriptedPinEntry } from '../dev-card/virtual-card-tools.js';
import { CardService } from '../reader-helper/card/card-service.js';
import type { CardIdentity } from '../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../reader-helper/virtual-card/virtual-jpki-card.js';

/**
 * Something that answers fetch requests: httpTransport (the default), or an adapter to a Lambda
 * handler. (Node's global fetch works too, but sends its own `Sec-Fetch-Mode: cors`.)
 */
export type Transport = (url: string, init: RequestInit) => Promise<Response>;

/** A page the browser shows, with the referrer policy it was served with. */
export interface BrowserDocument {
  readonly url: URL;
  /** The page's `Referrer-Policy` (Chromium's default when the page names none). */
  readonly referrerPolicy: string;
}

/**
 * Who starts a navigation or fetch, as a browser tells them apart: the user (address bar,
 * bookmark), a click on a page's link or form button, or a page's script (location.assign, fetch).
 */
export type Initiator =
  | { readonly by: 'user' }
  | { readonly by: 'link' | 'form' | 'script'; readonly document: BrowserDocument };

/** The initiator of a navigation typed by the user. */
export const BY_USER: Initiator = { by: 'user' };

/** Chromium's default referrer policy. */
export const DEFAULT_REFERRER_POLICY = 'strict-origin-when-cross-origin';
const REFERRER_POLICIES = new Set([
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]);

/** Headers only the browser sets (forbidden request headers a page cannot set either). */
const BROWSER_HEADERS = /^(origin|referer|cookie|host|sec-fetch-.*)$/;

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
  readonly sameSite: 'strict' | 'lax' | 'none';
}

/** The policy a `Referrer-Policy` header names: its last known token (Referrer Policy §8.1). */
export function parseReferrerPolicy(header: string | null): string | undefined {
  const tokens = (header ?? '').split(',').map((token) => token.trim().toLowerCase());
  return tokens.filter((token) => REFERRER_POLICIES.has(token)).pop();
}

/** RFC 6265 §5.1.4: the cookie path is the request path or a directory prefix of it. */
function pathMatches(path: string, cookiePath: string): boolean {
  if (path === cookiePath) return true;
  return path.startsWith(cookiePath) && (cookiePath.endsWith('/') || path[cookiePath.length] === '/');
}

/** http(s) on loopback or https: where browsers send Sec-Fetch-* (potentially trustworthy URLs). */
function trustworthy(url: URL): boolean {
  return (
    url.protocol === 'https:' || /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost|.+\.localhost)$/.test(url.hostname)
  );
}

/**
 * The site of a URL: scheme + host for IP literals and `localhost`, else scheme + the last two
 * labels (a stand-in for the public-suffix list, right for the hosts tests use).
 */
function siteOf(url: URL): string {
  const host = url.hostname;
  const literal = /^[\d.]+$|^\[|^localhost$/.test(host);
  return `${url.protocol}//${literal ? host : host.split('.').slice(-2).join('.')}`;
}

/** Sec-Fetch-Site of a request from `origin` through `chain` (Fetch Metadata §2.3). */
function fetchSite(origin: URL, chain: readonly URL[]): 'same-origin' | 'same-site' | 'cross-site' {
  if (chain.every((url) => url.origin === origin.origin)) return 'same-origin';
  return chain.every((url) => siteOf(url) === siteOf(origin)) ? 'same-site' : 'cross-site';
}

/** The Referer a page at `from` sends to `to` under `policy` (Referrer Policy §8.3), or none. */
function referrer(from: URL, to: URL, policy: string): string | undefined {
  const full = new URL(from.href);
  full.hash = '';
  full.username = '';
  full.password = '';
  const origin = `${from.origin}/`;
  const sameOrigin = from.origin === to.origin;
  const downgrade = from.protocol === 'https:' && to.protocol !== 'https:';
  switch (policy) {
    case 'no-referrer':
      return undefined;
    case 'unsafe-url':
      return full.href;
    case 'origin':
      return origin;
    case 'same-origin':
      return sameOrigin ? full.href : undefined;
    case 'strict-origin':
      return downgrade ? undefined : origin;
    case 'origin-when-cross-origin':
      return sameOrigin ? full.href : origin;
    case 'no-referrer-when-downgrade':
      return downgrade ? undefined : full.href;
    default:
      return downgrade ? undefined : sameOrigin ? full.href : origin;
  }
}

/** The Origin of a POST navigation from `from` to `to` under `policy` (Fetch §3.1, "null" when hidden). */
function navigationOrigin(from: URL, to: URL, policy: string): string {
  const downgrade = from.protocol === 'https:' && to.protocol !== 'https:';
  if (policy === 'no-referrer') return 'null';
  if (policy === 'same-origin') return from.origin === to.origin ? from.origin : 'null';
  if (policy.startsWith('strict-origin') || policy === 'no-referrer-when-downgrade') {
    return downgrade ? 'null' : from.origin;
  }
  return from.origin;
}

/**
 * Sends a request with node:http(s) exactly as given. (Node's fetch would not do: it sets
 * `Sec-Fetch-Mode: cors` on every request, a navigation too.)
 */
export const httpTransport: Transport = httpTransportFrom();

/** Where httpTransportFrom sends from and whom it trusts. */
export interface HttpTransportOptions {
  /** The local address (e.g. 127.0.0.7: a browser on another machine, as far as a loopback server can tell); default: the system's choice. */
  readonly localAddress?: string;
  /** The CA certificate(s) an https server's certificate must chain to; default: the system's. */
  readonly ca?: Buffer;
  /** Host names answered with these addresses instead of DNS (a test site such as login.test on 127.0.0.2). */
  readonly hosts?: Readonly<Record<string, string>>;
}

/** httpTransport with `options`. */
export function httpTransportFrom(options: HttpTransportOptions = {}): Transport {
  return (url, init) => send(url, init, options);
}

/** The request body as text: strings and form bodies (openid-client's URLSearchParams); nothing else is sent silently wrong. */
function bodyText(body: RequestInit['body']): string | undefined {
  if (body == null) return undefined;
  if (typeof body === 'string' || body instanceof URLSearchParams) return String(body);
  throw new TypeError('httpTransport sends string and URLSearchParams bodies only');
}

/** A DNS lookup that answers the names in `hosts` itself and asks the system for the others. */
function lookupIn(hosts: Readonly<Record<string, string>>): LookupFunction {
  return (hostname, options, callback) => {
    const address = Object.hasOwn(hosts, hostname) ? hosts[hostname] : undefined;
    if (address === undefined) return dnsLookup(hostname, options, callback);
    if (options.all) callback(null, [{ address, family: isIP(address) }]);
    else callback(null, address, isIP(address));
  };
}

function send(
  url: string,
  init: RequestInit,
  { localAddress, ca, hosts }: HttpTransportOptions,
): Promise<Response> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(new Headers(init.headers)),
        ...(localAddress ? { localAddress } : {}),
        ...(ca ? { ca } : {}),
        ...(hosts ? { lookup: lookupIn(hosts) } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            for (const item of [value ?? []].flat()) headers.append(name, item);
          }
          const status = incoming.statusCode ?? 500;
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(bodyText(init.body));
  });
}

/**
 * A scripted browser that sends what Chromium sends and nothing more: cookies (host, path and
 * SameSite rules), and `Origin`, `Referer` and `Sec-Fetch-*` computed from the initiator, the
 * initiating page's referrer policy and the redirect chain — never set by the caller. Redirects
 * are followed by hand, so a test can stop at the relying party's redirect URI. A test in
 * test/e2e compares these headers with the ones real Chromium sent for the same pages.
 */
export class TestBrowser {
  readonly #cookies = new Map<string, StoredCookie>();

  constructor(
    readonly transport: Transport = httpTransport,
    /** Headers a browser's settings add to every request (only `accept-language` is meaningful). */
    readonly defaultHeaders: Record<string, string> = {},
  ) {
    TestBrowser.#refuseBrowserHeaders(new Headers(defaultHeaders));
  }

  /** A test must not set what the browser sets itself. */
  static #refuseBrowserHeaders(headers: Headers): void {
    const browserSet = [...headers.keys()].find((name) => BROWSER_HEADERS.test(name));
    if (browserSet) throw new Error(`the browser sets ${browserSet} itself; a test must not`);
  }

  /**
   * One request (no redirect following) started by `initiator`, as a navigation or (mode
   * `cors`) a script's fetch, with the browser's own headers and the matching cookies; stores the
   * response's cookies. `chain` holds the URLs before this one when it follows a redirect.
   */
  async request(
    url: string | URL,
    init: RequestInit = {},
    initiator: Initiator = BY_USER,
    { chain = [], mode = 'navigate' }: { chain?: readonly URL[]; mode?: 'navigate' | 'cors' } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    TestBrowser.#refuseBrowserHeaders(headers);
    for (const [name, value] of Object.entries(this.defaultHeaders))
      if (!headers.has(name)) headers.set(name, value);
    const method = (init.method ?? 'GET').toUpperCase();
    const navigation = mode === 'navigate';
    const site = initiator.by === 'user' ? 'none' : fetchSite(initiator.document.url, [...chain, target]);
    if (initiator.by !== 'user') {
      const { url: from, referrerPolicy } = initiator.document;
      const first = chain[0] ?? target;
      if (!navigation && from.origin !== target.origin) {
        throw new Error('TestBrowser models same-origin fetches only (no CORS)');
      }
      const referer = referrer(from, target, referrerPolicy);
      if (referer) headers.set('referer', referer);
      if (!navigation) headers.set('origin', from.origin);
      else if (method !== 'GET' && method !== 'HEAD') {
        headers.set('origin', navigationOrigin(from, first, referrerPolicy));
      }
    }
    if (trustworthy(target)) {
      headers.set('sec-fetch-site', site);
      headers.set('sec-fetch-mode', navigation ? 'navigate' : 'cors');
      // Every navigation here follows a click (a script's location.assign() runs within it).
      if (navigation) headers.set('sec-fetch-user', '?1');
      headers.set('sec-fetch-dest', navigation ? 'document' : 'empty');
    }
    const sameSite = site !== 'cross-site';
    const cookie = [...this.#cookies.values()]
      .filter(
        (stored) =>
          stored.host === target.hostname &&
          pathMatches(target.pathname, stored.path) &&
          (sameSite ||
            stored.sameSite === 'none' ||
            (stored.sameSite === 'lax' && navigation && (method === 'GET' || method === 'HEAD'))),
      )
      .map((stored) => `${stored.name}=${stored.value}`)
      .join('; ');
    if (cookie) headers.set('cookie', cookie);
    const response = await this.transport(target.href, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(target, line);
    return response;
  }

  /**
   * Navigates to `url` (a GET, or a form's POST with `init`) and follows redirects until a
   * non-redirect answer (the page, with its referrer policy) or a URL `stop` accepts.
   */
  async navigate(
    url: string | URL,
    stop: (next: URL) => boolean,
    initiator: Initiator = BY_USER,
    init: RequestInit = {},
  ): Promise<{ url: URL; response?: Response; document?: BrowserDocument }> {
    let current = new URL(url);
    let request = init;
    const chain: URL[] = [];
    for (let hops = 0; hops < 20; hops++) {
      if (stop(current)) return { url: current };
      const response = await this.request(current, request, initiator, { chain });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        const referrerPolicy =
          parseReferrerPolicy(response.headers.get('referrer-policy')) ?? DEFAULT_REFERRER_POLICY;
        return { url: current, response, document: { url: current, referrerPolicy } };
      }
      await response.arrayBuffer();
      chain.push(current);
      current = new URL(location, current);
      // 301/302/303 after a POST become a GET without a body (Fetch §4.4).
      if (response.status !== 307 && response.status !== 308) request = {};
    }
    throw new Error('too many redirects');
  }

  /** GETs `url` as typed by the user and follows redirects (see navigate). */
  follow(url: string | URL, stop: (next: URL) => boolean) {
    return this.navigate(url, stop);
  }

  /** Submits a form of `document` (POST, urlencoded `fields`; pairs for a name given more than once) and follows the redirects. */
  submitForm(
    document: BrowserDocument,
    action: string | URL,
    fields: Record<string, string> | readonly (readonly [string, string])[],
    stop: (next: URL) => boolean,
  ) {
    return this.navigate(
      new URL(action, document.url),
      stop,
      { by: 'form', document },
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields as Record<string, string> | [string, string][]).toString(),
      },
    );
  }

  /** A fetch() made by `document`'s script (same origin, credentials included). */
  fetchFrom(document: BrowserDocument, url: string | URL, init: RequestInit): Promise<Response> {
    return this.request(new URL(url, document.url), init, { by: 'script', document }, { mode: 'cors' });
  }

  #store(from: URL, line: string): void {
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
    const sameSite = attribute('samesite')?.toLowerCase();
    const key = `${from.hostname}|${name}|${path}`;
    if (expired || value === '') this.#cookies.delete(key);
    else
      this.#cookies.set(key, {
        name,
        value,
        host: from.hostname,
        path,
        // Chromium treats a cookie without SameSite as Lax.
        sameSite: sameSite === 'strict' || sameSite === 'none' ? sameSite : 'lax',
      });
  }
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** The card side of a login, as the reader-helper does it, with a count of signatures made. */
export class VirtualCardSigner {
  readonly #service: CardService;
  /** The person at the PC, who types the identity's PIN into the helper's window. */
  readonly #person: ScriptedPinEntry;
  /** The virtual card itself (its `busyNanos` is the time spent inside the card). */
  readonly card: VirtualJpkiCard;
  signatures = 0;

  constructor(readonly identity: CardIdentity) {
    const backend = new InProcessReaderBackend(['Virtual Reader 0']);
    this.card = new VirtualJpkiCard(identity);
    backend.reader('Virtual Reader 0').insert(this.card);
    this.#service = new CardService(backend);
    this.#person = new ScriptedPinEntry({
      'user-auth-pin': identity.userAuthPin,
      'signing-password': identity.signingPin,
    });
  }

  /** What the helper hands its card service for the challenge (origin, nonce): the person at the PIN window. */
  #operation(origin: string, nonce: string) {
    return {
      origin,
      nonce,
      language: 'ja' as const,
      pinEntry: this.#person,
      signal: new AbortController().signal,
    };
  }

  /** Signs the challenge (origin, nonce) with the card, the person answering the PIN window, like `authenticate`. */
  async sign(origin: string, nonce: string): Promise<{ certificate: string; signature: string }> {
    const answer = await this.#service.authenticate(this.#operation(origin, nonce));
    this.signatures += 1;
    return { certificate: base64url(answer.certificate), signature: base64url(answer.signature) };
  }

  /**
   * The identity step as the helper does it (`verify-identity`): the person types the signing
   * password, the card signs identitySignedData(origin, nonce) with the signing key.
   */
  async verifyIdentity(
    origin: string,
    nonce: string,
  ): Promise<{ userAuthCertificate: string; signingCertificate: string; signature: string }> {
    const answer = await this.#service.verifyIdentity(this.#operation(origin, nonce));
    this.signatures += 1;
    return {
      userAuthCertificate: base64url(answer.userAuthCertificate),
      signingCertificate: base64url(answer.signingCertificate),
      signature: base64url(answer.signature),
    };
  }

  /** Releases the virtual reader. */
  close(): Promise<void> | void {
    return this.#service.close();
  }
}

/** A login page as the browser sees it. */
export interface LoginPage {
  readonly document: BrowserDocument;
  readonly html: string;
  readonly nonce: string;
  readonly loginUrl: URL;
  readonly response: Response;
}

function attribute(html: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** Parses the login page's challenge and login URL out of its HTML. */
export async function readLoginPage(document: BrowserDocument, response: Response): Promise<LoginPage> {
  const html = await response.text();
  const nonce = attribute(html, 'data-nonce');
  const login = attribute(html, 'data-login-url');
  if (!nonce || !login) throw new Error(`not a login page (${response.status}): ${html.slice(0, 300)}`);
  return { document, html, nonce, loginUrl: new URL(login, document.url), response };
}

/** The login page a navigation ended on (throws when it ended elsewhere). */
export function loginPageOf(step: { response?: Response; document?: BrowserDocument }): Promise<LoginPage> {
  if (!step.response || !step.document) throw new Error('the navigation did not end on a page');
  return readLoginPage(step.document, step.response);
}

/** What the OP answered to a posted login. */
export interface LoginReply {
  readonly status: number;
  readonly redirectTo?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly nonce?: string;
}

/** POSTs a card answer (a login's, or the identity step's) to the page's URL as the login script does (fetch, JSON). */
export async function postAnswer(
  browser: TestBrowser,
  page: LoginPage,
  answer:
    | { certificate: string; signature: string }
    | { userAuthCertificate: string; signingCertificate: string; signature: string },
): Promise<LoginReply> {
  const response = await browser.fetchFrom(page.document, page.loginUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(answer),
  });
  return { status: response.status, ...((await response.json()) as Omit<LoginReply, 'status'>) };
}

/** The action of the page's POST form whose action ends with `/suffix` (as the browser reads it). */
export function formAction(html: string, suffix: string): string {
  const actions = [...html.matchAll(/<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]+)"/g)].map((match) =>
    (match[1] as string).replace(/&amp;/g, '&'),
  );
  const action = actions.find((candidate) => candidate.endsWith(`/${suffix}`));
  if (!action) throw new Error(`no form posting to …/${suffix} on the page`);
  return action;
}

/** Clicks the consent page's allow (`confirm`) or deny (`abort`) button and follows the redirects. */
export function answerConsent(
  browser: TestBrowser,
  page: { document: BrowserDocument; html: string },
  action: 'confirm' | 'abort',
  stop: (next: URL) => boolean,
) {
  return browser.submitForm(page.document, formAction(page.html, action), {}, stop);
}

/** Where a sign-in ended: at the redirect URI, or on a page of the OP (login refused, consent…). */
export interface SignInResult {
  readonly callback?: URL;
  readonly page?: { readonly document: BrowserDocument; readonly response: Response; readonly html: string };
}

/**
 * Follows `authorizationUrl` as typed by the user; on the login page signs the challenge with
 * `card` (origin = the OP's origin, or `signOrigin`), posts it as the page's script does and
 * navigates where the OP says; on the consent page clicks allow when `consent`.
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
  let step = await browser.navigate(options.authorizationUrl, atCallback);
  for (let rounds = 0; rounds < 4; rounds++) {
    const { response, document } = step;
    if (!response || !document) return { callback: step.url };
    const html = await response.clone().text();
    const page = { document, response, html };
    if (!step.url.pathname.startsWith('/interaction/')) return { page };
    if (html.includes('data-nonce=')) {
      const login = await readLoginPage(document, response);
      const answer = await card.sign(options.signOrigin ?? document.url.origin, login.nonce);
      const reply = await postAnswer(browser, login, answer);
      if (!reply.redirectTo) throw new Error(`login refused: ${JSON.stringify(reply)}`);
      // The script's location.assign(): a navigation started by the page.
      step = await browser.navigate(new URL(reply.redirectTo, document.url), atCallback, {
        by: 'script',
        document,
      });
    } else if (options.consent && html.includes('/confirm"')) {
      step = await answerConsent(browser, page, 'confirm', atCallback);
    } else return { page };
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

/** What an RP keeps to check the answer to its authorization request. */
export interface AuthorizationChecks {
  readonly pkceCodeVerifier: string;
  readonly expectedState: string;
  readonly expectedNonce: string;
}

/** An authorization request of `rp` as openid-client builds it: code flow, PKCE S256, state, nonce. */
export async function authorizationRequest(
  rp: client.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<{ url: URL; checks: AuthorizationChecks }> {
  const checks = {
    pkceCodeVerifier: client.randomPKCECodeVerifier(),
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
  };
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    ...params,
  });
  return { url, checks };
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
  const { url, checks } = await authorizationRequest(options.rp, options.redirectUri, {
    scope: options.scope ?? 'openid',
    ...options.params,
  });
  const result = await signIn({ ...options, authorizationUrl: url });
  if (!result.callback) throw new Error(`sign-in stopped at ${result.page?.document.url.href}`);
  const tokens = await client.authorizationCodeGrant(options.rp, result.callback, {
    ...checks,
    idTokenExpected: true,
  });
  return { tokens, callback: result.callback };
}
