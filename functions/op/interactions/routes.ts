/**
 * The OP's own routes, mounted on the provider (provider.use): the login script and style sheet
 * (content-hashed paths, cached immutable), the icon (also at /favicon.ico), and the interaction
 * pages —
 *   GET  /interaction/:uid              login page (issues the challenge) or consent page; once
 *                                       the interaction is over, a page saying so with a way back;
 *   GET  /interaction/:uid/card-answer  the login page in card-answer mode: where the helper's
 *                                       navigation path returns (answer in the fragment, which
 *                                       never reaches the server); issues no challenge. A
 *                                       cross-site top-level GET from 127.0.0.1, so only the
 *                                       interaction cookie (SameSite=Lax) binds it, no origin check;
 *                                       never a redirect (the fragment would follow it);
 *   POST /interaction/:uid/challenge    a new challenge → JSON `{ nonce, ttlSeconds }`;
 *   POST /interaction/:uid/login        certificate + signature (JSON or form) → login result;
 *   POST /interaction/:uid/identity     the identity step's card answer (both certificates +
 *                                       signature; its challenge consumed as the login's, within
 *                                       the same limits) → the verified identity, sealed in the
 *                                       interaction's item, and the way to its consent page (the
 *                                       interaction's URL, which then shows it);
 *   POST /interaction/:uid/identity-confirm  the ticked claims → the sealed release (and consent);
 *   POST /interaction/:uid/confirm      consent given;
 *   POST /interaction/:uid/abort        login, identity step or consent cancelled: access_denied.
 * Every POST must carry the interaction cookie of that uid and come from the OP's own origin.
 * The login limits (limits.ts) are checked here: answers and challenges per sign-in, and
 * authorization requests per client address (before oidc-provider stores an interaction).
 *
 * DynamoDB round trips of a sign-in:
 * - the authorization request of a browser without an OP session, from an address this instance
 *   last saw at no more than half its limit (limits.ts countsAlongside), counts its client address
 *   after oidc-provider's work (which then can only store an interaction), alongside that
 *   interaction's write (the request's held writes, storage/request-scope.ts), not before; should
 *   it be over the limit after all (the address counted on several instances at once), the answer
 *   is replaced by the refusal (the stored interaction is never used and expires). Every other
 *   request is counted first, so under a flood refused requests write nothing but the count;
 * - the first login page of a new interaction (its URL carries a ticket, page-ticket.ts) reads and
 *   writes nothing: the interaction was stored with its first challenge, whose nonce is derived
 *   (limits.ts), and the ticket says what the page shows;
 * - a sign-in's card answer consumes its challenge (counted as an answer, before anything is
 *   verified) while the card's account is read (AccountStore.knownAccount, by the posted
 *   certificate's key: a read, nothing written for an unverified certificate); once the answer is
 *   verified, a returning card's login result is saved while the login is recorded on that
 *   account (accountForLogin, which checks again as it writes) — two round trips. Should the
 *   record fail or name another account (the account changed in between), the interaction is
 *   deleted once its result has landed, and the answer refused: the person starts again (a
 *   resume that came in between, with the browser's own resume cookie, got the account the read
 *   found, which passed the same checks an instant before). A new card (or a renewed
 *   certificate) has its account made first, then its result saved;
 * - other pages, the identity step's answer and a renewed challenge start with their one
 *   conditional write to the interaction's item (set a counted challenge; consume it as a counted
 *   answer) when the browser's interaction cookie names the uid, so oidc-provider's read of the
 *   interaction that follows is answered from the item that write returned
 *   (storage/request-scope.ts) — one round trip where a read and then a write were two.
 */
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Client, Interaction, InteractionResults } from 'oidc-provider';
import type { CardOperationPurpose } from '../../../protocol/helper-protocol.js';
import { CHALLENGE_TTL_SECONDS } from '../../defaults.js';
import { logIdentityVerified } from '../../identity/audit.js';
import { consentItems } from '../../identity/consent-items.js';
import { identityDisclosures } from '../../identity/disclosures.js';
import { type IdentityRequest, identityRequestOf } from '../../identity/identity-request.js';
import { VerificationError } from '../../jpki/errors.js';
import { FIRST_PARTY_FLAG, hasFlag, REMEMBER_IDENTITY_CONSENT_FLAG } from '../client-flags.js';
import type { ResolvedOpConfig } from '../config.js';
import {
  FAVICON_PATH,
  FAVICON_SVG,
  IMMUTABLE_CACHE_CONTROL,
  pageHeaders,
  STYLE_PATH,
  STYLE_SHEET,
} from '../login-page/assets.js';
import { type ClientDisplay, clientDisplay, clientPurpose } from '../login-page/client-display.js';
import {
  renderConsentPage,
  renderErrorPage,
  renderIdentityConsentPage,
  renderInteractionDonePage,
  renderLoginPage,
} from '../login-page/html.js';
import { negotiateLocale } from '../login-page/locale.js';
import { loginScriptAsset } from '../login-page/login-script.js';
import { fill, type Locale, message } from '../login-page/messages.js';
import type { SealedClaimsCarrier } from '../sealed-claims.js';
import { accountOfCard, knownAccountOf, loginResult, MYNA_RESULT, verifyCardLogin } from './card-login.js';
import { grantConsent, rememberedIdentityChoice } from './grant.js';
import { IDENTITY_PROMPT, type MynaResult, mynaResultOf } from './identity-prompt.js';
import {
  chosenClaims,
  type PendingIdentity,
  pendingIdentity,
  pendingIdentityOf,
  sealedRelease,
  sealPendingIdentity,
  verifyIdentityAnswer,
} from './identity-step.js';
import { LoginLimits } from './limits.js';
import { LoginError } from './login-error.js';
import { openPageTicket, PAGE_TICKET_PARAMETER } from './page-ticket.js';
import { assertSameOrigin, boundInteraction, clientAddress, readFields, wantsJson } from './request.js';

export { MYNA_RESULT } from './card-login.js';

/** The seconds a challenge just handed out has left (each is new). The page renews from this. */
const CHALLENGE_SECONDS_LEFT = CHALLENGE_TTL_SECONDS;

/**
 * No fresh challenge after a refused answer when the sign-in had its share of challenges or is
 * over (its answer was already accepted, it was cancelled, it expired): the refusal then goes out
 * without one, and the page says the sign-in cannot go on.
 */
function noFreshChallenge(error: unknown): undefined {
  if (
    error instanceof LoginError &&
    (error.code === 'TOO_MANY_ATTEMPTS' || error.code === 'INTERACTION_EXPIRED')
  )
    return undefined;
  throw error;
}

const ROUTE =
  /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|identity|identity-confirm|confirm|abort|challenge|card-answer))?$/;
/** Remembers, per finished interaction, which client it was for (so Back finds the way home). */
const DONE_COOKIE = 'myna_done';
const DONE_COOKIE_MS = 10 * 60 * 1000;

/**
 * The middleware serving the assets and interaction routes; other requests pass through.
 * `sealedClaims` seals what a transaction carries: the raw serial, the identity step's pending
 * identity and its release.
 */
export function interactionRoutes(
  provider: Provider,
  config: ResolvedOpConfig,
  sealedClaims: SealedClaimsCarrier,
): Koa.Middleware {
  const limits = new LoginLimits({
    counter: config.storage.rateCounter,
    challenges: config.storage.challenges,
    settings: config.limits,
    secret: config.secrets.pairwiseSecret,
    logger: config.logger,
  });
  const authorizationPath = provider.pathFor('authorization');
  const localeOf = (ctx: Koa.Context, interaction?: Interaction): Locale =>
    negotiateLocale(
      typeof interaction?.params.ui_locales === 'string' ? interaction.params.ui_locales : undefined,
      ctx.get('accept-language'),
    );
  const displayOf = async (clientId: unknown, locale: Locale): Promise<ClientDisplay | undefined> => {
    if (typeof clientId !== 'string' || clientId === '') return undefined;
    // A client whose stored metadata oidc-provider refuses is shown by nothing but the page's text.
    const client = await provider.Client.find(clientId).catch(() => undefined);
    return client ? clientDisplay(client, locale) : undefined;
  };
  const page = (ctx: Koa.Context, status: number, html: string, client?: ClientDisplay) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set(pageHeaders(config.helperPort, client?.logoUri));
    ctx.body = html;
  };
  /** A JSON answer for the page's script (never cached). */
  const json = (ctx: Koa.Context, status: number, body: object) => {
    ctx.status = status;
    ctx.set('cache-control', 'no-store');
    ctx.body = body;
  };
  /** The text of a refusal; `Retry-After` with it when the refusal says when to retry. */
  const refusalText = (ctx: Koa.Context, locale: Locale, error: LoginError | VerificationError): string => {
    const retryAfter = error instanceof LoginError ? error.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) ctx.set('retry-after', String(retryAfter));
    return fill(message(locale, error.code), { n: retryAfter ?? '' });
  };
  const errorPage = (
    ctx: Koa.Context,
    locale: Locale,
    error: LoginError | VerificationError,
    client?: ClientDisplay,
  ) => {
    const { code } = error;
    const status = error instanceof LoginError ? error.status : 400;
    page(
      ctx,
      status,
      renderErrorPage({ locale, code, text: refusalText(ctx, locale, error), client }),
      client,
    );
  };
  /** A new challenge for `uid`; LoginError TOO_MANY_ATTEMPTS once the sign-in had its share. */
  const issueChallenge = async (uid: string): Promise<string> => {
    const nonce = await limits.challenge(uid);
    if (nonce === undefined) throw new LoginError('INTERACTION_EXPIRED');
    return nonce;
  };
  /**
   * True when this browser's interaction cookie names `uid`: the check boundInteraction makes
   * (oidc-provider's signed cookie, read as it reads it), made before the interaction is read.
   */
  const cookieNames = (ctx: Koa.Context, uid: string): boolean =>
    ctx.cookies.get(provider.cookieName('interaction')) === uid;
  /** The identity part of `interaction`'s request, for `client` (undefined: no identity step). */
  const identityRequestIn = (interaction: Interaction, client: { metadata(): object } | undefined) =>
    identityRequestOf(interaction.params, client?.metadata(), config.identity);
  /** The verified identity waiting for the person's choice in `interaction`, if any. */
  const pendingIn = (interaction: Interaction): PendingIdentity | undefined =>
    interaction.prompt.name === IDENTITY_PROMPT ? pendingIdentityOf(sealedClaims, interaction) : undefined;
  /**
   * True when `interaction`'s identity page is also a consent: the request has `prompt=consent`,
   * or scopes or claims the grant lacks (the prompt's details, identity-prompt.ts).
   */
  const asksForConsent = (interaction: Interaction): boolean => {
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
    };
    const prompted = String(interaction.params.prompt ?? '')
      .split(' ')
      .includes('consent');
    return prompted || Boolean(details.missingOIDCScope?.length || details.missingOIDCClaims?.length);
  };
  /** Waits for `write` to be done, its refusal included (looked at once the interaction is read). */
  const finished = async (write: Promise<unknown> | undefined): Promise<void> => {
    await write?.catch(() => undefined);
  };
  /**
   * Ends `interaction` (deletes it, at once) after a result was saved that must not be resumed:
   * the account's record of the login failed or named another account. A deletion never brings
   * back an interaction a concurrent resume has ended; a failure to delete is logged, and the
   * refusal that follows is the caller's.
   */
  const endSignIn = async (interaction: Interaction): Promise<void> => {
    try {
      await interaction.destroy();
      await config.storage.requestScope?.flush();
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      config.logger.warn('login.end_failed', { interaction: interaction.uid, error: name });
    }
  };
  /** Saves `result` as the interaction's (this browser's, by its cookie); the URL to go on to. */
  const saveResult = (ctx: Koa.Context, result: InteractionResults): Promise<string> =>
    provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  /** Sends the browser on to `redirectTo` after `interaction`'s result was saved. */
  const respond = (ctx: Koa.Context, interaction: Interaction, redirectTo: string, json: boolean) => {
    ctx.cookies.set(DONE_COOKIE, encodeURIComponent(String(interaction.params.client_id)), {
      path: `/interaction/${interaction.uid}`,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: DONE_COOKIE_MS,
      overwrite: true,
    });
    ctx.set('cache-control', 'no-store');
    if (json) ctx.body = { redirectTo };
    else {
      ctx.status = 303;
      ctx.redirect(redirectTo);
    }
  };
  const finish = async (
    ctx: Koa.Context,
    interaction: Interaction,
    result: InteractionResults,
    json: boolean,
  ) => respond(ctx, interaction, await saveResult(ctx, result), json);
  /** The client of the interaction this browser finished at this URL, if any. */
  const finishedClient = (ctx: Koa.Context, locale: Locale) => {
    const clientId = ctx.cookies.get(DONE_COOKIE);
    return displayOf(clientId ? decodeURIComponent(clientId) : undefined, locale);
  };

  /**
   * The page of interaction `uid`. `cardAnswer`: where the helper's navigation path returns — the
   * login page in card-answer mode (its script reads the answer from the fragment and posts it),
   * issuing no challenge: the one the card signed is still the interaction's. An interaction past
   * its login prompt shows the same either way.
   */
  async function showInteraction(ctx: Koa.Context, uid: string, cardAnswer = false): Promise<void> {
    if (!cardAnswer && (await ticketedLoginPage(ctx, uid))) return;
    // The login page's challenge first (module comment); an interaction at another prompt gets none.
    const early = !cardAnswer && cookieNames(ctx, uid) ? limits.challenge(uid) : undefined;
    await finished(early);
    let interaction: Interaction;
    try {
      interaction = await boundInteraction(provider, ctx, uid);
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      // Back after signing in, an old tab, a bookmark: say the sign-in is over, link home.
      const locale = localeOf(ctx);
      const client = await finishedClient(ctx, locale);
      if (cardAnswer) leaveCardAnswer(ctx, uid, locale, client);
      else page(ctx, 200, renderInteractionDonePage(locale, client), client);
      return;
    }
    const locale = localeOf(ctx, interaction);
    const client = await provider.Client.find(String(interaction.params.client_id));
    const display = client ? clientDisplay(client, locale) : { name: String(interaction.params.client_id) };
    const abortUrl = `/interaction/${uid}/abort`;
    const prompt = interaction.prompt.name;
    const pending = pendingIn(interaction);
    // The card's step: the login, or the identity step until the card's answer was verified.
    const purpose: CardOperationPurpose | undefined =
      prompt === 'login' ? 'sign-in' : prompt === IDENTITY_PROMPT && !pending ? 'verify-identity' : undefined;
    if (purpose && cardAnswer) await loginPage(ctx, uid, locale, display, purpose);
    else if (cardAnswer) leaveCardAnswer(ctx, uid, locale, display);
    else if (purpose) {
      const nonce = (await early) ?? (await issueChallenge(uid));
      await loginPage(ctx, uid, locale, display, purpose, { nonce, ttlSeconds: CHALLENGE_SECONDS_LEFT });
    } else if (pending) {
      const request = client && identityRequestIn(interaction, client);
      if (!client || !request) throw new LoginError('INTERACTION_MISMATCH');
      const scopes = (interaction.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
      page(
        ctx,
        200,
        renderIdentityConsentPage({
          locale,
          client: display,
          purpose: clientPurpose(client, locale),
          items: consentItems(request, pending.facts, locale, new Date(pending.verifiedAt)),
          disclosures: identityDisclosures(client.metadata(), request, config.identity),
          scopes,
          confirmUrl: `/interaction/${uid}/identity-confirm`,
          abortUrl,
        }),
        display,
      );
    } else if (hasFlag(client, FIRST_PARTY_FLAG)) {
      const result = { consent: { grantId: await grantConsent(provider, interaction) } };
      await finish(ctx, interaction, result, false);
    } else {
      const scopes = (interaction.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
      page(
        ctx,
        200,
        renderConsentPage({
          locale,
          client: display,
          scopes,
          confirmUrl: `/interaction/${uid}/confirm`,
          abortUrl,
        }),
        display,
      );
    }
  }

  /**
   * The first login page of a new sign-in, from the ticket in its URL (page-ticket.ts), with the
   * challenge the interaction was stored with: without reading the interaction. Only for the
   * browser whose interaction cookie names `uid` and that did not finish it here (the done
   * cookie), while that challenge has time left; false otherwise (the page is then made from
   * the interaction, which says whether the sign-in is over, with a new challenge).
   */
  async function ticketedLoginPage(ctx: Koa.Context, uid: string): Promise<boolean> {
    const ticket = openPageTicket(config.secrets.pairwiseSecret, uid, ctx.query[PAGE_TICKET_PARAMETER]);
    if (!ticket || !cookieNames(ctx, uid) || ctx.cookies.get(DONE_COOKIE)) return false;
    const ttlSeconds = ticket.issuedAt + CHALLENGE_TTL_SECONDS - Math.floor(Date.now() / 1000);
    if (ttlSeconds <= 0) return false;
    const client = await provider.Client.find(ticket.clientId).catch(() => undefined);
    if (!client) return false;
    const locale = negotiateLocale(ticket.uiLocales, ctx.get('accept-language'));
    const challenge = { nonce: limits.firstChallenge(uid), ttlSeconds };
    await loginPage(ctx, uid, locale, clientDisplay(client, locale), 'sign-in', challenge);
    return true;
  }

  /**
   * The card-answer URL of an interaction not (or no longer) at its login prompt: never a redirect
   * (the answer's fragment would follow it, to the relying party at the end of the chain) but the
   * "sign-in over" page, which moves on at once to the interaction's own URL by a meta refresh — a
   * new navigation that leaves the fragment behind — where the interaction goes on (consent, the
   * relying party) or says it is over. Nothing from another site (no logo) while the fragment shows.
   */
  function leaveCardAnswer(ctx: Koa.Context, uid: string, locale: Locale, client?: ClientDisplay): void {
    const shown = client && { ...client, logoUri: undefined };
    page(ctx, 200, renderInteractionDonePage(locale, shown, `/interaction/${uid}`), shown);
  }

  /**
   * The login page of `uid` for `purpose` (the login, or the identity step): with its challenge
   * (login mode), or without (card-answer mode).
   */
  async function loginPage(
    ctx: Koa.Context,
    uid: string,
    locale: Locale,
    display: ClientDisplay,
    purpose: CardOperationPurpose,
    challenge?: { nonce: string; ttlSeconds: number },
  ): Promise<void> {
    const base = `/interaction/${uid}`;
    const html = renderLoginPage({
      locale,
      mode: challenge ? 'login' : 'card-answer',
      purpose,
      ...(challenge ? { challenge } : {}),
      loginUrl: purpose === 'verify-identity' ? `${base}/identity` : `${base}/login`,
      challengeUrl: `${base}/challenge`,
      returnUrl: `${config.origin}${base}/card-answer`,
      abortUrl: `${base}/abort`,
      helperPort: config.helperPort,
      client: display,
      helperGuideUrl: config.helperGuideUrl,
      scriptPath: (await loginScriptAsset()).path,
    });
    // The card-answer page loads nothing from another site (the RP's logo included).
    page(ctx, 200, html, challenge ? display : { name: display.name });
  }

  /** A new challenge for the page's script (before an authenticate or a navigation to the helper). */
  async function renewChallenge(ctx: Koa.Context, uid: string): Promise<void> {
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      interaction = await boundInteraction(provider, ctx, uid);
      const prompt = interaction.prompt.name;
      if (prompt !== 'login' && prompt !== IDENTITY_PROMPT) throw new LoginError('INTERACTION_MISMATCH');
      json(ctx, 200, { nonce: await issueChallenge(uid), ttlSeconds: CHALLENGE_SECONDS_LEFT });
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      config.logger.info('challenge.refused', { interaction: uid, code: error.code });
      const locale = localeOf(ctx, interaction);
      json(ctx, error.status, { error: { code: error.code, message: refusalText(ctx, locale, error) } });
    }
  }

  /**
   * The answer to a card answer refused with `error` at `step`: JSON for the page's script, with a
   * fresh challenge while `interaction` can try again (within limits), or the error page.
   */
  async function answerRefused(
    ctx: Koa.Context,
    uid: string,
    step: 'login' | 'identity',
    interaction: Interaction | undefined,
    error: unknown,
  ): Promise<void> {
    if (!(error instanceof LoginError || error instanceof VerificationError)) throw error;
    config.logger.info(`${step}.refused`, { interaction: uid, code: error.code });
    const locale = localeOf(ctx, interaction);
    // The interaction is still good: a fresh challenge lets the page try again (within limits).
    const retry = interaction && !(error instanceof LoginError && error.code === 'TOO_MANY_ATTEMPTS');
    const nonce = retry ? await issueChallenge(uid).catch(noFreshChallenge) : undefined;
    if (wantsJson(ctx)) {
      json(ctx, error instanceof LoginError ? error.status : 400, {
        error: { code: error.code, message: refusalText(ctx, locale, error) },
        ...(nonce ? { nonce, ttlSeconds: CHALLENGE_SECONDS_LEFT } : {}),
      });
    } else errorPage(ctx, locale, error, await displayOf(interaction?.params.client_id, locale));
  }

  /**
   * The identity step's card answer: consumes the challenge (counted, limits.ts), reads the
   * interaction, and lets `accept` verify the answer and answer the page. A refusal goes back with
   * a fresh challenge while the interaction can try again.
   */
  async function identityAnswerPosted(
    ctx: Koa.Context,
    uid: string,
    accept: (
      interaction: Interaction,
      nonce: string | undefined,
      fields: Record<string, unknown>,
    ) => Promise<void>,
  ): Promise<void> {
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      // The answer consumes the challenge first (module comment); limits.answer may refuse it.
      const consumed = cookieNames(ctx, uid) ? limits.answer(uid) : undefined;
      await finished(consumed);
      interaction = await boundInteraction(provider, ctx, uid);
      const nonce = await (consumed ?? limits.answer(uid));
      // An identity answer only at the identity step.
      if (interaction.prompt.name !== IDENTITY_PROMPT) throw new LoginError('INTERACTION_MISMATCH');
      await accept(interaction, nonce, await readFields(ctx));
    } catch (error) {
      await answerRefused(ctx, uid, 'identity', interaction, error);
    }
  }

  /**
   * A sign-in's card answer (module comment): its challenge consumed (counted) while the card's
   * account is looked up, then the answer verified, then the login result saved while the login
   * is recorded on the account.
   */
  async function login(ctx: Koa.Context, uid: string): Promise<void> {
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      const fields = await readFields(ctx);
      const bound = cookieNames(ctx, uid);
      // The answer consumes the challenge first; limits.answer may refuse it.
      const consumed = bound ? limits.answer(uid) : undefined;
      const known = bound ? knownAccountOf(config, fields.certificate) : undefined;
      await finished(consumed);
      interaction = await boundInteraction(provider, ctx, uid);
      const nonce = await (consumed ?? limits.answer(uid));
      // A sign-in's answer only at the login prompt, never at the identity step.
      if (interaction.prompt.name !== 'login') throw new LoginError('INTERACTION_MISMATCH');
      if (nonce === undefined) throw new LoginError('CHALLENGE_UNAVAILABLE');
      const verified = await verifyCardLogin(fields, nonce, config);
      const client = await provider.Client.find(String(interaction.params.client_id));
      const loggedIn = interaction;
      const resultOf = (accountId: string) =>
        loginResult(loggedIn, verified, accountId, {
          rawSerial: sealedClaims,
          client,
          identityRequested: identityRequestIn(loggedIn, client) !== undefined,
        });
      const candidate = await known;
      let redirectTo: string;
      if (candidate?.issuerKeyId === verified.issuer.id) {
        // A returning card: its result is saved as the login is recorded (module comment).
        redirectTo = await saveResult(ctx, resultOf(candidate.accountId));
        // The held result leaves first (a command sent while writes are held waits for them).
        const saved = config.storage.requestScope?.flush() ?? Promise.resolve();
        const [written, recorded] = await Promise.allSettled([saved, accountOfCard(config, verified)]);
        if (written.status === 'rejected') throw written.reason;
        if (recorded.status === 'rejected' || recorded.value !== candidate.accountId) {
          await endSignIn(loggedIn);
          throw recorded.status === 'rejected' ? recorded.reason : new LoginError('INTERACTION_EXPIRED');
        }
      } else redirectTo = await saveResult(ctx, resultOf(await accountOfCard(config, verified)));
      config.logger.info('login.succeeded', { interaction: uid });
      respond(ctx, interaction, redirectTo, wantsJson(ctx));
    } catch (error) {
      await answerRefused(ctx, uid, 'login', interaction, error);
    }
  }

  /**
   * The identity step's card answer: verified (identity-step.ts: the login's user-auth certificate,
   * the signing certificate linked to it where the OP has a link source), then kept sealed in
   * the interaction's item until the person's choice; the page goes on to the interaction's URL,
   * which shows the claim-by-claim consent.
   */
  function identity(ctx: Koa.Context, uid: string): Promise<void> {
    return identityAnswerPosted(ctx, uid, async (interaction, nonce, fields) => {
      const pending = pendingIdentity(await verifyIdentityAnswer(interaction, fields, { config, nonce }));
      config.logger.info('identity.answer_verified', { interaction: uid });
      const client = await provider.Client.find(String(interaction.params.client_id));
      const request = client && identityRequestIn(interaction, client);
      if (!client || !request) throw new LoginError('INTERACTION_MISMATCH');
      // A client allowed to remember the choice: the claims the person agreed to before, at once —
      // only when the page would ask nothing else (no scope or claim the grant lacks, no prompt=consent).
      const grant = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
      const remembered =
        hasFlag(client, REMEMBER_IDENTITY_CONSENT_FLAG) && !asksForConsent(interaction)
          ? rememberedIdentityChoice(
              grant,
              [...new Set(request.items.map((item) => item.claim))],
              identityDisclosures(client.metadata(), request, config.identity),
            )
          : undefined;
      if (remembered) return release(ctx, interaction, client, request, pending, remembered);
      const myna: MynaResult = {
        ...mynaResultOf(interaction.lastSubmission),
        pendingIdentity: sealPendingIdentity(sealedClaims, interaction, pending),
      };
      // Saved with the interaction (its lifetime), replacing the item: no challenge is left in it.
      interaction.result = { ...interaction.lastSubmission, [MYNA_RESULT]: myna };
      await interaction.persist();
      const next = `/interaction/${uid}`;
      ctx.set('cache-control', 'no-store');
      if (wantsJson(ctx)) ctx.body = { redirectTo: next };
      else {
        ctx.status = 303;
        ctx.redirect(next);
      }
    });
  }

  /**
   * The person's choice on the identity consent page (a form POST): the release of the ticked
   * claims (required ones always).
   */
  async function identityConfirmed(ctx: Koa.Context, uid: string): Promise<void> {
    assertSameOrigin(ctx, config.origin);
    const interaction = await boundInteraction(provider, ctx, uid);
    const pending = pendingIn(interaction);
    const client = await provider.Client.find(String(interaction.params.client_id));
    const request = client && identityRequestIn(interaction, client);
    if (!pending || !client || !request) throw new LoginError('INTERACTION_MISMATCH');
    const chosen = chosenClaims(request, await readFields(ctx));
    await release(ctx, interaction, client, request, pending, chosen);
  }

  /**
   * Ends the identity step with the release of the `chosen` claims, sealed for the client, and the
   * consent for what else the request asks (the identity page listed it); a client flagged
   * `myna_remember_identity_consent` remembers the choice in its grant (grant.ts).
   */
  async function release(
    ctx: Koa.Context,
    interaction: Interaction,
    client: Client,
    request: IdentityRequest,
    pending: PendingIdentity,
    chosen: readonly string[],
  ): Promise<void> {
    const { sealed, claimNames } = sealedRelease(sealedClaims, request, pending, chosen, client.metadata());
    const { userAuthCertificateKey: _compared, ...before } = mynaResultOf(interaction.lastSubmission) ?? {};
    const remember = hasFlag(client, REMEMBER_IDENTITY_CONSENT_FLAG)
      ? {
          agreed: claimNames,
          declined: request.items.map((item) => item.claim).filter((claim) => !claimNames.includes(claim)),
          disclosures: identityDisclosures(client.metadata(), request, config.identity),
        }
      : undefined;
    // The identity page was the consent too: for what the grant lacks, and for `prompt=consent`.
    const consent = remember || asksForConsent(interaction);
    const result: InteractionResults = {
      [MYNA_RESULT]: { ...before, identity: { sealed, claimNames } } satisfies MynaResult,
      ...(consent ? { consent: { grantId: await grantConsent(provider, interaction, remember) } } : {}),
    };
    logIdentityVerified(config.logger, {
      interaction: interaction.uid,
      client: client.clientId,
      claims: claimNames,
    });
    await finish(ctx, interaction, result, wantsJson(ctx));
  }

  /** Consent given (`confirm`), or the login or consent cancelled (`abort`: access_denied at the RP). */
  async function answer(ctx: Koa.Context, uid: string, action: 'confirm' | 'abort'): Promise<void> {
    assertSameOrigin(ctx, config.origin);
    const interaction = await boundInteraction(provider, ctx, uid);
    const prompt = interaction.prompt.name;
    const abortable = prompt === 'login' || prompt === IDENTITY_PROMPT;
    if (prompt !== 'consent' && !(action === 'abort' && abortable)) {
      throw new LoginError('INTERACTION_MISMATCH');
    }
    const refusals: Readonly<Record<string, string>> = {
      login: 'End-User cancelled the sign-in',
      [IDENTITY_PROMPT]: 'End-User declined the identity verification or the release of identity claims',
      consent: 'End-User refused the authorization',
    };
    const result: InteractionResults =
      action === 'confirm'
        ? { consent: { grantId: await grantConsent(provider, interaction) } }
        : { error: 'access_denied', error_description: refusals[prompt] ?? refusals.consent };
    await finish(ctx, interaction, result, false);
  }

  /**
   * The refusal of an authorization request over its client address's limit (`error`): the error
   * page, and nothing of oidc-provider's answer — not its redirect, not its cookies.
   */
  const authorizationRefused = (ctx: Koa.Context, error: unknown) => {
    if (!(error instanceof LoginError)) throw error;
    ctx.remove('set-cookie');
    ctx.remove('location');
    errorPage(ctx, localeOf(ctx), error);
  };

  /** An asset; content-hashed ones are cached immutable, the icon (fixed paths) for 5 minutes. */
  const asset = (ctx: Koa.Context, type: string, body: string, cacheControl = IMMUTABLE_CACHE_CONTROL) => {
    ctx.type = type;
    ctx.set({ 'cache-control': cacheControl, 'x-content-type-options': 'nosniff' });
    ctx.body = body;
  };

  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path.startsWith('/assets/myna-login.')) {
      const script = await loginScriptAsset();
      if (ctx.path === script.path) return asset(ctx, 'application/javascript; charset=utf-8', script.body);
    }
    if (ctx.method === 'GET' && ctx.path === STYLE_PATH)
      return asset(ctx, 'text/css; charset=utf-8', STYLE_SHEET);
    if (ctx.method === 'GET' && (ctx.path === FAVICON_PATH || ctx.path === '/favicon.ico')) {
      return asset(ctx, 'image/svg+xml', FAVICON_SVG, 'public, max-age=300');
    }
    if (ctx.path === authorizationPath) {
      const address = clientAddress(ctx, config.clientAddressHeader);
      const count = () =>
        limits.authorization(address).then(
          () => undefined,
          (error: unknown) => error,
        );
      // With an OP session the request may issue a code at once: counted first; also an address
      // seen near its limit. Otherwise the request can only store an interaction (or send an error
      // to the relying party): counted while the interaction's write goes out (module comment).
      if (ctx.cookies.get(provider.cookieName('session')) || !limits.countsAlongside(address)) {
        const refusal = await count();
        return refusal === undefined ? next() : authorizationRefused(ctx, refusal);
      }
      let refusal: unknown;
      try {
        await next();
      } finally {
        // Counted however oidc-provider ended. The held writes leave first (a command sent while
        // writes are held waits for them).
        [, refusal] = await Promise.all([config.storage.requestScope?.flush(), count()]);
      }
      if (refusal !== undefined) authorizationRefused(ctx, refusal);
      return;
    }
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid = '', action] = match;
    try {
      if (ctx.method === 'GET' && !action) await showInteraction(ctx, uid);
      else if (ctx.method === 'GET' && action === 'card-answer') await showInteraction(ctx, uid, true);
      else if (ctx.method === 'POST' && action === 'challenge') await renewChallenge(ctx, uid);
      else if (ctx.method === 'POST' && action === 'login') await login(ctx, uid);
      else if (ctx.method === 'POST' && action === 'identity') await identity(ctx, uid);
      else if (ctx.method === 'POST' && action === 'identity-confirm') await identityConfirmed(ctx, uid);
      else if (ctx.method === 'POST' && (action === 'confirm' || action === 'abort'))
        await answer(ctx, uid, action);
      else ctx.status = 405;
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const locale = localeOf(ctx);
      errorPage(ctx, locale, error, await finishedClient(ctx, locale));
    }
  };
}
