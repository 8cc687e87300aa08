/**
 * The demo relying party: a small web app that signs people in with the OP through openid-client
 * (authorization code flow + PKCE, confidential client), then shows the ID token claims and the
 * userinfo, and logs out through RP-initiated logout. It also takes OIDC Back-Channel Logout
 * tokens at DEMO_RP_BACKCHANNEL_PATH (validated with jose against the OP's JWKS) and ends the
 * sessions they name. Sessions live in memory: a demo, not a template for session storage.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, customFetch as jwksFetch, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { signedInPage, signedOutPage } from './html.js';

export interface DemoRpOptions {
  /** The OP's issuer URL. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where this app is reachable, e.g. http://localhost:3001. */
  readonly baseUrl: string;
  readonly port: number;
  /** Only for http issuers on loopback (local development). */
  readonly allowInsecureRequests?: boolean;
  /** How requests reach the OP (openid-client's customFetch); default: Node's fetch. */
  readonly transport?: (url: string, init: RequestInit) => Promise<Response>;
}

interface Session {
  pending?: { state: string; nonce: string; verifier: string };
  claims?: object;
  userinfo?: object;
  idToken?: string;
}

const SESSION_COOKIE = 'demo_rp_session';
/** Where the OP POSTs logout tokens (the client's backchannel_logout_uri). */
export const DEMO_RP_BACKCHANNEL_PATH = '/backchannel-logout';
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Starts the demo RP; discovery happens on the first sign-in, so the OP may start later. */
export async function startDemoRp(options: DemoRpOptions): Promise<{ server: Server; url: string }> {
  const sessions = new Map<string, Session>();
  let configuration: Promise<oidc.Configuration> | undefined;
  const discover = () => {
    configuration ??= oidc
      .discovery(
        new URL(options.issuer),
        options.clientId,
        undefined,
        oidc.ClientSecretBasic(options.clientSecret),
        {
          ...(options.allowInsecureRequests ? { execute: [oidc.allowInsecureRequests] } : {}),
          ...(options.transport ? { [oidc.customFetch]: options.transport } : {}),
        },
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
  const redirectUri = new URL('/callback', options.baseUrl).href;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  /** Logout token ids already acted on (a replay is refused). */
  const seenJtis = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', options.baseUrl);
    // The OP's back-channel logout (no browser, no cookie): ends the sessions the token names.
    if (req.method === 'POST' && url.pathname === DEMO_RP_BACKCHANNEL_PATH) {
      const config = await discover();
      const token = new URLSearchParams(await readBody(req)).get('logout_token') ?? '';
      jwks ??= createRemoteJWKSet(
        new URL(config.serverMetadata().jwks_uri as string),
        options.transport ? { [jwksFetch]: options.transport } : undefined,
      );
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.serverMetadata().issuer,
        audience: options.clientId,
        typ: 'logout+jwt',
        maxTokenAge: '2 minutes',
      }).catch(() => ({ payload: undefined }));
      const events = payload?.events as Record<string, unknown> | undefined;
      if (
        !payload ||
        !events?.[BACKCHANNEL_LOGOUT_EVENT] ||
        'nonce' in payload ||
        seenJtis.has(String(payload.jti))
      ) {
        return res.writeHead(400).end();
      }
      seenJtis.add(String(payload.jti));
      for (const [sessionId, candidate] of sessions) {
        const claims = candidate.claims as { sub?: string; sid?: string } | undefined;
        if (claims && (payload.sid ? claims.sid === payload.sid : claims.sub === payload.sub))
          sessions.delete(sessionId);
      }
      return res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
    }
    const [id, session] = sessionOf(req, res, sessions);
    if (req.method === 'POST' && url.pathname === '/login') {
      const config = await discover();
      const pending = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
      };
      session.pending = pending;
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return redirect(res, target.href);
    }
    if (req.method === 'GET' && url.pathname === '/callback') {
      const pending = session.pending;
      if (!pending)
        return send(res, 400, signedOutPage('That sign-in attempt has expired. Please try again.'));
      session.pending = undefined;
      const config = await discover();
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('the provider returned no ID token');
      session.claims = claims;
      session.idToken = tokens.id_token;
      session.userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      return redirect(res, '/');
    }
    if (req.method === 'POST' && url.pathname === '/logout') {
      const idToken = session.idToken;
      sessions.delete(id);
      if (!idToken) return redirect(res, '/');
      const config = await discover();
      const target = oidc.buildEndSessionUrl(config, {
        id_token_hint: idToken,
        post_logout_redirect_uri: new URL('/', options.baseUrl).href,
      });
      return redirect(res, target.href);
    }
    if (req.method === 'GET' && url.pathname === '/') {
      const error = url.searchParams.get('error');
      if (session.claims) return send(res, 200, signedInPage(session.claims, session.userinfo ?? {}));
      return send(res, 200, signedOutPage(error ? `The provider answered: ${error}` : undefined));
    }
    send(res, 404, signedOutPage('Not found.'));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 502, signedOutPage(`Sign-in failed: ${(error as Error).message}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://localhost:${port}` };
}

function sessionOf(
  req: IncomingMessage,
  res: ServerResponse,
  sessions: Map<string, Session>,
): [string, Session] {
  const cookie = /(?:^|;\s*)demo_rp_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '')?.[1];
  if (cookie && sessions.has(cookie)) return [cookie, sessions.get(cookie) as Session];
  const id = randomBytes(32).toString('base64url');
  const session: Session = {};
  sessions.set(id, session);
  res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Lax; Path=/`);
  return [id, session];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location }).end();
}

function send(res: ServerResponse, status: number, html: string): void {
  res
    .writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action *",
    })
    .end(html);
}
