/**
 * The login page's ticket (op/interactions/page-ticket.ts): the URL of a new sign-in's page carries
 * its client, UI locales and time, bound to the interaction's uid under the OP's secret; any other
 * prompt gets the plain path; a ticket not made by the OP for that uid opens to nothing.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import type { Interaction } from 'oidc-provider';
import {
  interactionPageUrl,
  openPageTicket,
  PAGE_TICKET_PARAMETER,
} from '../../functions/op/interactions/page-ticket.js';

const SECRET = randomBytes(32);
const UID = 'c3ZgP2B3m1PzNlqgRk8dR';
const T0 = 1_700_000_000_999;

/**
 * An interaction as oidc-provider hands it to `interactions.url`: what the page URL reads of it
 * (its uid, the authorization request's parameters, the prompt).
 */
function interaction(prompt: string, params: Record<string, unknown>, uid = UID): Interaction {
  const shown: Pick<Interaction, 'uid' | 'params' | 'prompt'> = {
    uid,
    params,
    prompt: { name: prompt, reasons: [], details: {} },
  };
  return shown as Interaction;
}

/** The page URL of `made`, split into its path and ticket. */
function pageOf(made: Interaction, secret: Uint8Array = SECRET) {
  const url = new URL(interactionPageUrl(secret, made, T0), 'https://op.example');
  return { path: url.pathname, ticket: url.searchParams.get(PAGE_TICKET_PARAMETER), query: url.search };
}

/** The ticket of a login interaction of client `rp` (a string, asserted). */
function ticketOf(params: Record<string, unknown> = { client_id: 'rp' }, uid = UID): string {
  const { ticket } = pageOf(interaction('login', params, uid));
  expect(typeof ticket).toBe('string');
  return ticket as string;
}

describe('the page URL of a new sign-in', () => {
  test('carries a ticket with the client, the UI locales and the time, for the uid', () => {
    const { path } = pageOf(interaction('login', { client_id: 'rp', ui_locales: 'ja en' }));
    expect(path).toBe(`/interaction/${UID}`);
    const ticket = ticketOf({ client_id: 'rp', ui_locales: 'ja en', scope: 'openid' });
    expect(openPageTicket(SECRET, UID, ticket)).toEqual({
      clientId: 'rp',
      uiLocales: 'ja en',
      issuedAt: Math.floor(T0 / 1000),
    });
  });

  test('without ui_locales, the ticket has none', () => {
    expect(openPageTicket(SECRET, UID, ticketOf({ client_id: 'rp' }))).toEqual({
      clientId: 'rp',
      issuedAt: Math.floor(T0 / 1000),
    });
  });

  test('a client id and locales with characters a URL or JSON escapes come back as they were', () => {
    const params = { client_id: 'rp "one"/ä?&=.', ui_locales: 'ja-JP, "en"' };
    expect(openPageTicket(SECRET, UID, ticketOf(params))).toMatchObject({
      clientId: params.client_id,
      uiLocales: params.ui_locales,
    });
  });

  test('the time is the one given, in epoch seconds', () => {
    const made = interaction('login', { client_id: 'rp' });
    const later = new URL(interactionPageUrl(SECRET, made, T0 + 60_000), 'https://op.example');
    expect(openPageTicket(SECRET, UID, later.searchParams.get(PAGE_TICKET_PARAMETER))).toMatchObject({
      issuedAt: Math.floor(T0 / 1000) + 60,
    });
  });
});

describe('the plain path', () => {
  test('for an interaction at another prompt than login', () => {
    for (const prompt of ['consent', 'identity', 'select_account']) {
      const { path, query } = pageOf(interaction(prompt, { client_id: 'rp' }));
      expect(path).toBe(`/interaction/${UID}`);
      expect(query).toBe('');
    }
  });

  test('for a login interaction whose client_id is not a string', () => {
    for (const clientId of [undefined, 1, ['rp'], { id: 'rp' }, null]) {
      expect(interactionPageUrl(SECRET, interaction('login', { client_id: clientId }), T0)).toBe(
        `/interaction/${UID}`,
      );
    }
  });
});

describe('opening a ticket', () => {
  test('refuses a changed body', () => {
    const [body = '', mac = ''] = ticketOf().split('.');
    const forged = Buffer.from(JSON.stringify(['other-rp', Math.floor(T0 / 1000)])).toString('base64url');
    expect(openPageTicket(SECRET, UID, `${forged}.${mac}`)).toBeUndefined();
    const flipped = `${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    expect(openPageTicket(SECRET, UID, `${flipped}.${mac}`)).toBeUndefined();
    expect(openPageTicket(SECRET, UID, `${body}A.${mac}`)).toBeUndefined();
    expect(openPageTicket(SECRET, UID, `.${mac}`)).toBeUndefined();
  });

  test('refuses a changed MAC', () => {
    const [body = '', mac = ''] = ticketOf().split('.');
    for (let i = 0; i < mac.length; i++) {
      const changed = `${mac.slice(0, i)}${mac[i] === 'A' ? 'B' : 'A'}${mac.slice(i + 1)}`;
      expect(openPageTicket(SECRET, UID, `${body}.${changed}`)).toBeUndefined();
    }
    for (const resized of ['', mac.slice(1), `${mac}A`])
      expect(openPageTicket(SECRET, UID, `${body}.${resized}`)).toBeUndefined();
    expect(openPageTicket(SECRET, UID, body)).toBeUndefined();
  });

  test("refuses another interaction's ticket", () => {
    const ticket = ticketOf({ client_id: 'rp' }, 'interaction-2');
    expect(openPageTicket(SECRET, 'interaction-2', ticket)).toMatchObject({ clientId: 'rp' });
    expect(openPageTicket(SECRET, UID, ticket)).toBeUndefined();
  });

  test('refuses a ticket made under another secret', () => {
    const { ticket } = pageOf(interaction('login', { client_id: 'rp' }), randomBytes(32));
    expect(ticket).toEqual(expect.any(String));
    expect(openPageTicket(SECRET, UID, ticket)).toBeUndefined();
  });

  test('refuses extra dots', () => {
    const ticket = ticketOf();
    for (const value of [`${ticket}.`, `${ticket}.x`, `.${ticket}`, ticket.replace('.', '..')])
      expect(openPageTicket(SECRET, UID, value)).toBeUndefined();
  });

  test('refuses what is not a string', () => {
    const ticket = ticketOf();
    for (const value of [undefined, null, 1, {}, [ticket], ['a', 'b'], Buffer.from(ticket)])
      expect(openPageTicket(SECRET, UID, value)).toBeUndefined();
  });
});
