/** What every engine's login must end with: the RP shows the ID token of a card login at the public https issuer. */
import { expect } from '@jest/globals';
import { type Locale, message } from '../../../functions/op/login-page/messages.js';
import { DEMO_CLIENT_ID } from '../../../local/stack.js';
import type { EngineLoginHarness } from '../../support/browsers/login-harness.js';

const subjects = new WeakMap<EngineLoginHarness, unknown>();

/** Checks the claims the RP shows; every login of one harness (one card) must get the same `sub`. */
export function expectCardLogin(claims: Record<string, unknown>, harness: EngineLoginHarness): void {
  expect(claims).toMatchObject({
    iss: harness.site.origin,
    aud: DEMO_CLIENT_ID,
    acr: 'urn:myna-oidc:acr:jpki-user-auth',
    amr: ['sc', 'pin', 'hwk'],
  });
  expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
  if (!subjects.has(harness)) subjects.set(harness, claims.sub);
  expect(claims.sub).toBe(subjects.get(harness));
}

/** What the login page says after a wrong PIN with `n` (> 1) tries left. */
export function wrongPinText(locale: Locale, n: number): string {
  return message(locale, 'triesLeft')
    .replace('{message}', message(locale, 'HELPER_PIN_INCORRECT'))
    .replace('{n}', String(n));
}
