/**
 * The login page's ticket: what the first page of a new interaction at its login prompt shows,
 * carried in the URL the authorization endpoint sends the browser to
 * (`/interaction/<uid>?ticket=…`), so that page needs no read of the interaction — the client, the
 * requested UI locales, and when the interaction was stored with its first challenge
 * (storage/challenge-store.ts). It is bound to the uid by an HMAC under an OP secret, so nobody
 * can make the page name another client. The browser's interaction cookie still binds the uid to
 * this browser (routes.ts); what a ticket cannot know (the sign-in was finished, cancelled or has
 * expired) the page learns the usual way, by reading the interaction.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Interaction } from 'oidc-provider';
import { keyedHash } from '../../subject/keyed-hash.js';

/** What a ticket says about its interaction. */
export interface PageTicket {
  readonly clientId: string;
  /** The authorization request's `ui_locales`, if any. */
  readonly uiLocales?: string;
  /** When the interaction and its first challenge were stored, epoch seconds. */
  readonly issuedAt: number;
}

/** The query parameter of the ticket. */
export const PAGE_TICKET_PARAMETER = 'ticket';

const LABEL = 'myna-oidc/login-page-ticket';

const macOf = (secret: Uint8Array, uid: string, body: string) => keyedHash(secret, LABEL, [uid, body]);

/** The URL of `interaction`'s page: with a ticket when it is at its login prompt (a new sign-in). */
export function interactionPageUrl(secret: Uint8Array, interaction: Interaction, nowMs = Date.now()): string {
  const path = `/interaction/${interaction.uid}`;
  const { client_id: clientId, ui_locales: uiLocales } = interaction.params;
  if (interaction.prompt.name !== 'login' || typeof clientId !== 'string') return path;
  const ticket: unknown[] = [clientId, Math.floor(nowMs / 1000)];
  if (typeof uiLocales === 'string') ticket.push(uiLocales);
  const body = Buffer.from(JSON.stringify(ticket)).toString('base64url');
  return `${path}?${PAGE_TICKET_PARAMETER}=${body}.${macOf(secret, interaction.uid, body)}`;
}

/** The ticket `value` (the query parameter) of interaction `uid`; undefined unless it is one the OP made. */
export function openPageTicket(secret: Uint8Array, uid: string, value: unknown): PageTicket | undefined {
  if (typeof value !== 'string') return undefined;
  const [body = '', mac = '', ...rest] = value.split('.');
  const expected = Buffer.from(macOf(secret, uid, body));
  const given = Buffer.from(mac);
  if (rest.length || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const [clientId, issuedAt, uiLocales] = JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown[];
  if (typeof clientId !== 'string' || typeof issuedAt !== 'number') return undefined;
  return { clientId, issuedAt, ...(typeof uiLocales === 'string' ? { uiLocales } : {}) };
}
