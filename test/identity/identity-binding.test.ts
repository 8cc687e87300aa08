/**
 * The signing certificate must be of the card that signed in (R1 finding 2): nothing in the
 * identity answer proves it — the user-auth certificate in it is public and not signed in that
 * step — so an OP with signing trust anchors starts only with an authoritative link source (J-LIS's
 * look-up) or the operator's explicit opt-in, and with the link source it refuses a signing
 * certificate and signature of another card sent with the signed-in card's user-auth certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DevIdentity, DevPki } from '../../dev-pki/hierarchy.js';
import { combineTrustAnchors, loadTrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { OpConfigError } from '../../functions/op/config.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { cardIdentityOf } from '../../reader-helper/virtual-card/identity.js';
import { startIdentityOp } from '../op/identity-op.js';
import { useLocalTables } from '../storage/local-table.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import {
  authorizationRequest,
  loginPageOf,
  postAnswer,
  relyingParty,
  TestBrowser,
  VirtualCardSigner,
} from '../support/oidc-flow.js';
import { TEST_CLIENTS, testOpConfig } from '../support/op-stack.js';

const newTable = useLocalTables();
let pki: DevPki;
const person = (label: string) => pki.identities.find((identity) => identity.label === label) as DevIdentity;

beforeAll(async () => {
  pki = await devPki();
});

describe('an OP with signing trust anchors', () => {
  /** The OP's configuration as the Lambda's was before the fix: signing CAs, no link source. */
  const unlinked = async (url: string, identity?: { acceptUnlinkedSigningCertificates: boolean }) => {
    const userAuth = userAuthAnchors(pki);
    const signingTrustAnchors = loadTrustAnchors([pki.signingCa.der]);
    return {
      ...(await testOpConfig(url, { table: await newTable() })),
      trustAnchors: userAuth,
      revocation: new MemoryCrlSource(combineTrustAnchors(userAuth, signingTrustAnchors)),
      signingTrustAnchors,
      ...(identity ? { identity } : {}),
    };
  };

  it('does not start without a link source unless the operator accepts unlinked signing certificates', async () => {
    await expect(startOpServer({ config: (url) => unlinked(url) })).rejects.toThrow(OpConfigError);
    await expect(
      startOpServer({ config: (url) => unlinked(url, { acceptUnlinkedSigningCertificates: false }) }),
    ).rejects.toThrow(/identity\.acceptUnlinkedSigningCertificates/);
    const optedIn = await startOpServer({
      config: (url) => unlinked(url, { acceptUnlinkedSigningCertificates: true }),
    });
    await optedIn.close();
  });
});

describe('an OP with the link source', () => {
  let op: OpServer;
  beforeAll(async () => {
    op = await startIdentityOp({ table: await newTable() });
  });
  afterAll(async () => {
    await op?.close();
  });

  it("refuses another card's signing certificate sent with the signed-in card's user-auth certificate", async () => {
    const metadata = TEST_CLIENTS.thirdParty;
    const rp = await relyingParty({
      issuer: op.url,
      clientId: metadata.client_id,
      clientSecret: metadata.client_secret,
    });
    const redirectUri = metadata.redirect_uris[0] as string;
    const { url } = await authorizationRequest(rp, redirectUri, { scope: 'openid name' });
    const browser = new TestBrowser();
    const atCallback = (next: URL) => next.href.startsWith(redirectUri);
    const alice = new VirtualCardSigner(cardIdentityOf(person('alice')));
    const bob = new VirtualCardSigner(cardIdentityOf(person('bob')));
    try {
      const login = await loginPageOf(await browser.navigate(url, atCallback));
      const loggedIn = await postAnswer(
        browser,
        login,
        await alice.sign(login.document.url.origin, login.nonce),
      );
      const step = await loginPageOf(
        await browser.navigate(new URL(loggedIn.redirectTo as string, login.document.url), atCallback, {
          by: 'script',
          document: login.document,
        }),
      );
      const own = await alice.verifyIdentity(step.document.url.origin, step.nonce);
      const foreign = await bob.verifyIdentity(step.document.url.origin, step.nonce);
      // A modified helper: bob's signing certificate and signature, alice's (public) user-auth certificate.
      const reply = await postAnswer(browser, step, {
        ...foreign,
        userAuthCertificate: own.userAuthCertificate,
      });
      expect(reply.redirectTo).toBeUndefined();
      expect(reply.error?.code).toBe('CARD_MISMATCH');
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
