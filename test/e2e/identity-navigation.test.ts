/**
 * Identity verification on the navigation path, end to end: the OP is a public https site
 * (`https://login.test:<port>`, the local stack with the development signing CA), Chromium's
 * Local Network Access permission for it is denied (as after the person answered Block), so the
 * page cannot open the WebSocket and goes to the helper's own page for the sign-in and then, with
 * `purpose=verify-identity`, for the identity verification; the person types the user-auth PIN
 * and then the signing password into the helper's real PIN window, comes back to the OP's
 * card-answer page, sees the claims and shares them; the RP (openid-client) gets them. The
 * helper's own log says which path each operation took. Safari always takes this path.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, CDPSession } from 'playwright-core';
import { DEV_DEFAULT_FACTS } from '../../dev-pki/hierarchy.js';
import { ClientRegistry } from '../../functions/storage/client-registry.js';
import { createDynamoClient } from '../../functions/storage/dynamo-client.js';
import { httpTransportFrom } from '../../local/scripted-login.js';
import { LOCAL_TABLE_NAME } from '../../local/stack.js';
import { signInWithHelperWindow } from '../support/browser.js';
import { denyLoopbackAccess, launchChromiumForPublicSite } from '../support/browsers/chromium.js';
import { type EngineLoginHarness, startEngineLoginHarness } from '../support/browsers/login-harness.js';
import {
  consentRows,
  RpFlow,
  shareOnConsentPage,
  verifyIdentityWithHelperWindow,
} from '../support/identity-world.js';
import { relyingParty } from '../support/oidc-flow.js';

const CLIENT = {
  client_id: 'rp-navigation',
  client_secret: randomBytes(24).toString('base64url'),
  redirect_uris: ['https://rp-navigation.example/cb'],
  client_name: 'Navigation RP',
  scope: 'openid name birthdate',
  myna_first_party: true,
};

let harness: EngineLoginHarness;
let browser: Browser;

beforeAll(async () => {
  harness = await startEngineLoginHarness();
  const dynamo = createDynamoClient({ endpoint: harness.stack.dynamoEndpoint });
  await new ClientRegistry({ client: dynamo, tableName: LOCAL_TABLE_NAME }).put(CLIENT);
  dynamo.destroy();
  browser = await launchChromiumForPublicSite(harness.site);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe('identity verification through the helper page (no WebSocket), in Chromium', () => {
  it('signs in and verifies by navigation; the RP gets the verified claims', async () => {
    const { site } = harness;
    const rp = await relyingParty({
      issuer: harness.stack.opUrl,
      clientId: CLIENT.client_id,
      clientSecret: CLIENT.client_secret,
      transport: httpTransportFrom({ ca: site.stackHttps.ca, hosts: { [site.hostName]: site.address } }),
    });
    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    let permissions: CDPSession | undefined;
    try {
      permissions = await denyLoopbackAccess(browser, page, site.origin);
      const mark = harness.helperLog.mark();
      const flow = await RpFlow.start(page, rp, CLIENT.redirect_uris[0] as string, { scope: CLIENT.scope });
      await signInWithHelperWindow(page, harness.person, harness.identity.userAuthPin, 20_000);
      await verifyIdentityWithHelperWindow(page, harness.person, harness.identity.signingPin);
      expect((await consentRows(page)).map((row) => row.value)).toEqual([
        DEV_DEFAULT_FACTS.name,
        '1990-01-01',
      ]);
      await shareOnConsentPage(page);
      const { idToken } = await flow.redeem();
      expect({ name: idToken.name, birthdate: idToken.birthdate }).toEqual({
        name: DEV_DEFAULT_FACTS.name,
        birthdate: '1990-01-01',
      });
      expect(harness.helperLog.authentications(mark)).toEqual({ websocket: 0, navigation: 1 });
      expect(harness.helperLog.identityVerifications(mark)).toEqual({ websocket: 0, navigation: 1 });
      expect(harness.helperLog.webSocketConnections(mark)).toBe(0);
    } finally {
      await permissions?.detach();
      await page.context().close();
    }
  }, 60_000);
});
