/**
 * The security headers of every HTML answer of a whole flow — login page, consent page, the
 * form_post page oidc-provider renders with the code, an error page, the page of a finished
 * interaction, the logout question and the logout-done page — and of the OP's other answers.
 * The form_post page's inline script is admitted by its SHA-256 in the CSP, nothing else inline.
 * (HSTS on an https issuer: test/op/lambda.test.ts; form_post in real Chromium: test/e2e.)
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { OpServer } from '../../functions/op/local-server.js';
import { useLocalTables } from '../storage/local-table.js';
import { aliceCard } from '../support/card.js';
import {
  authorizationRequest,
  type BrowserDocument,
  httpTransport,
  relyingParty,
  signIn,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { startTestOp, TEST_CLIENTS } from '../support/op-stack.js';

const newTable = useLocalTables();
let op: OpServer;
let card: VirtualCardSigner;
let rp: client.Configuration;
const THIRD = TEST_CLIENTS.thirdParty;
const REDIRECT_URI = THIRD.redirect_uris[0] as string;

/** Every answer the browser got: request path, status, headers, body. */
interface Seen {
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}
let seen: Seen[] = [];
const recording = async (url: string, init: RequestInit) => {
  const response = await httpTransport(url, init);
  seen.push({
    path: new URL(url).pathname,
    status: response.status,
    headers: response.headers,
    body: await response.clone().text(),
  });
  return response;
};
const htmlAnswers = () =>
  seen.filter((answer) => answer.headers.get('content-type')?.startsWith('text/html'));

beforeAll(async () => {
  card = new VirtualCardSigner((await aliceCard()).identity);
  op = await startTestOp({ table: await newTable() });
  rp = await relyingParty({ issuer: op.url, clientId: THIRD.client_id, clientSecret: THIRD.client_secret });
});
afterAll(async () => {
  await op?.close();
  await card?.close();
});

/** The directives of a CSP header, by name. */
function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name = '', ...values]) => [name, values]),
  );
}

/** The headers every HTML answer must carry (http issuer: no HSTS). */
function expectStrictHtmlHeaders(answer: Seen): void {
  const csp = directives(answer.headers.get('content-security-policy'));
  const where = `${answer.status} ${answer.path}`;
  expect({ where, frameAncestors: csp.get('frame-ancestors') }).toEqual({
    where,
    frameAncestors: ["'none'"],
  });
  expect({ where, defaultSrc: csp.get('default-src') }).toEqual({ where, defaultSrc: ["'none'"] });
  expect({ where, baseUri: csp.get('base-uri') }).toEqual({ where, baseUri: ["'none'"] });
  expect({ where, scriptSrc: csp.get('script-src')?.[0] }).toEqual({ where, scriptSrc: "'self'" });
  expect(answer.headers.get('content-security-policy')).not.toContain('unsafe-');
  expect({ where, nosniff: answer.headers.get('x-content-type-options') }).toEqual({
    where,
    nosniff: 'nosniff',
  });
  expect({ where, referrer: answer.headers.get('referrer-policy') }).toEqual({
    where,
    referrer: 'same-origin',
  });
  expect(answer.headers.get('strict-transport-security')).toBeNull();
}

describe('every HTML answer of a whole flow gets the same strict headers', () => {
  it('login, consent, form_post, finished interaction, error, logout and logout done', async () => {
    seen = [];
    const browser = new TestBrowser(recording);
    const { url } = await authorizationRequest(rp, REDIRECT_URI, { response_mode: 'form_post' });
    const result = await signIn({
      browser,
      authorizationUrl: url,
      redirectUri: REDIRECT_URI,
      card,
      consent: true,
    });
    // The form_post page: a form to the RP's redirect URI with the code, submitted by its script.
    const formPost = result.page;
    expect(formPost?.html).toContain(`action="${REDIRECT_URI}"`);
    expect(formPost?.html).toMatch(/name="code" value="[^"]+"/);
    const script = /<script>([\s\S]*?)<\/script>/.exec(formPost?.html ?? '')?.[1] ?? '';
    const csp = directives(formPost?.response.headers.get('content-security-policy') ?? null);
    expect(csp.get('script-src')).toContain(
      `'sha256-${createHash('sha256').update(script).digest('base64')}'`,
    );

    // Back to the finished interaction: the page saying the sign-in is over.
    const interactionPath = seen.find((answer) => /^\/interaction\/[^/]+$/.test(answer.path))?.path as string;
    await browser.follow(new URL(interactionPath, op.url), () => false);
    // An error page: an authorization request of an unknown client.
    const unknown = new URL('/auth?client_id=nobody&response_type=code&scope=openid', op.url);
    const error = await browser.follow(unknown, () => false);
    expect(error.response?.status).toBe(400);
    // RP-initiated logout: the question, then the page saying it is done.
    const question = await browser.follow(
      client.buildEndSessionUrl(rp, { client_id: THIRD.client_id }),
      () => false,
    );
    const html = (await question.response?.text()) ?? '';
    const action = /action="([^"]+)"/.exec(html)?.[1] as string;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const done = await browser.submitForm(
      question.document as BrowserDocument,
      action,
      { xsrf, logout: 'yes' },
      () => false,
    );
    expect(done.url.pathname).toBe('/session/end/success');

    // Koa's redirects have an HTML body too: they are checked, but not listed.
    const pages = htmlAnswers().filter((answer) => answer.status < 300 || answer.status >= 400);
    const kinds = pages.map((answer) => answer.path.replace(/\/[A-Za-z0-9_-]{16,}/, '/:uid'));
    expect(kinds).toEqual([
      '/interaction/:uid', // login
      '/interaction/:uid', // consent
      '/auth/:uid', // form_post
      '/interaction/:uid', // finished
      '/auth', // error
      '/session/end', // logout question
      '/session/end/success', // logout done
    ]);
    expect(htmlAnswers().length).toBeGreaterThan(pages.length);
    for (const answer of htmlAnswers()) expectStrictHtmlHeaders(answer);
  });

  it('other answers get nosniff but no page CSP', async () => {
    seen = [];
    await recording(`${op.url}/.well-known/openid-configuration`, {});
    await recording(`${op.url}/jwks`, {});
    for (const answer of seen) {
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('content-security-policy')).toBeNull();
    }
  });
});
