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
 * DynamoDB round trips: a login page and a card answer each start with their one conditional
 * write to the interaction's item (set a counted challenge; consume it as a counted answer) when
 * the browser's interaction cookie names the uid, so oidc-provider's read of the interaction that
 * follows is answered from the item that write returned (storage/request-scope.ts) — one round
 * trip where a read and then a write were two.
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
import { cardLogin, MYNA_RESULT } from './card-login.js';
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
    addressSecret: config.secrets.pairwiseSecret,
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
  const finish = async (
    ctx: Koa.Context,
    interaction: Interaction,
    result: InteractionResults,
    json: boolean,
  ) => {
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: true,
    });
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
   * A card's answer posted at `step` (the login, or the identity step): consumes the challenge
   * (counted, limits.ts), reads the interaction, and lets `accept` verify the answer and answer
   * the page. A refusal goes back with a fresh challenge while the interaction can try again.
   */
  async function cardAnswerPosted(
    ctx: Koa.Context,
    uid: string,
    step: 'login' | 'identity',
    accept: (
      interaction: Interaction,
      nonce: string | undefined,
      fields: Record<string, unknown>,
    ) => Promise<void>,
  ): Promise<void> {
    const wanted = wantsJson(ctx);
    let interaction: Interaction | undefined;
    try {
      assertSameOrigin(ctx, config.origin);
      // The answer consumes the challenge first (module comment); limits.answer may refuse it.
      const consumed = cookieNames(ctx, uid) ? limits.answer(uid) : undefined;
      await finished(consumed);
      interaction = await boundInteraction(provider, ctx, uid);
      const nonce = await (consumed ?? limits.answer(uid));
      // An identity answer only at the identity step, a login's never there.
      if ((interaction.prompt.name === IDENTITY_PROMPT) !== (step === 'identity')) {
        throw new LoginError('INTERACTION_MISMATCH');
      }
      await accept(interaction, nonce, await readFields(ctx));
    } catch (error) {
      if (!(error instanceof LoginError || error instanceof VerificationError)) throw error;
      config.logger.info(`${step}.refused`, { interaction: uid, code: error.code });
      const locale = localeOf(ctx, interaction);
      // The interaction is still good: a fresh challenge lets the page try again (within limits).
      const retry = interaction && !(error instanceof LoginError && error.code === 'TOO_MANY_ATTEMPTS');
      const nonce = retry ? await issueChallenge(uid).catch(noFreshChallenge) : undefined;
      if (wanted) {
        json(ctx, error instanceof LoginError ? error.status : 400, {
          error: { code: error.code, message: refusalText(ctx, locale, error) },
          ...(nonce ? { nonce, ttlSeconds: CHALLENGE_SECONDS_LEFT } : {}),
        });
      } else errorPage(ctx, locale, error, await displayOf(interaction?.params.client_id, locale));
    }
  }

  function login(ctx: Koa.Context, uid: string): Promise<void> {
    return cardAnswerPosted(ctx, uid, 'login', async (interaction, nonce, fields) => {
      const client = await provider.Client.find(String(interaction.params.client_id));
      const result = await cardLogin(interaction, fields, {
        config,
        rawSerial: sealedClaims,
        client,
        nonce,
        identityRequested: identityRequestIn(interaction, client) !== undefined,
      });
      config.logger.info('login.succeeded', { interaction: uid });
      await finish(ctx, interaction, result, wantsJson(ctx));
    });
  }

  /**
   * The identity step's card answer: verified (identity-step.ts: the login's user-auth certificate,
   * the signing certificate linked to it where the OP has a link source), then kept sealed in
   * the interaction's item until the person's choice; the page goes on to the interaction's URL,
   * which shows the claim-by-claim consent.
   */
  function identity(ctx: Koa.Context, uid: string): Promise<void> {
    return cardAnswerPosted(ctx, uid, 'identity', async (interaction, nonce, fields) => {
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
      try {
        await limits.authorization(clientAddress(ctx, config.clientAddressHeader));
      } catch (error) {
        if (!(error instanceof LoginError)) throw error;
        return errorPage(ctx, localeOf(ctx), error);
      }
      return next();
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
