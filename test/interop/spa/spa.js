// A single-page app as a public client of myna-oidc (token_endpoint_auth_method "none"), in the
// browser with panva's oauth4webapi: discovery, PKCE S256, state, nonce, the code exchange and
// userinfo, all as cross-origin fetches the OP must allow by CORS. The result goes to #result.
import * as oauth from '/oauth4webapi.js';

const result = document.getElementById('result');
const show = (value) => {
  result.textContent = JSON.stringify(value);
};

const { issuer, clientId } = await (await fetch('/config.json')).json();
const redirectUri = `${location.origin}/callback`;
const client = { client_id: clientId };
// http only because the test OP runs on loopback; a real SPA talks to an https issuer.
const insecure = { [oauth.allowInsecureRequests]: true };
const as = await oauth.processDiscoveryResponse(
  new URL(issuer),
  await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oidc', ...insecure }),
);

async function signIn() {
  const pending = {
    codeVerifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
  };
  sessionStorage.setItem('pending', JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.codeVerifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url);
}

async function callback() {
  const pending = JSON.parse(sessionStorage.getItem('pending') ?? 'null');
  sessionStorage.removeItem('pending');
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), pending.state);
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      redirectUri,
      pending.codeVerifier,
      insecure,
    ),
    { expectedNonce: pending.nonce, requireIdToken: true },
  );
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, insecure),
  );
  show({ claims, userinfo, tokenType: tokens.token_type, refreshToken: tokens.refresh_token !== undefined });
}

document
  .getElementById('sign-in')
  .addEventListener('click', () => signIn().catch((error) => show({ error: String(error) })));
if (location.pathname === '/callback')
  await callback().catch((error) => show({ error: `${error.name}: ${error.message}`, code: error.code }));
