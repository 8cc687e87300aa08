/**
 * Server-rendered pages of the OP: login, consent, error, "sign-in over", logout. Every page names
 * the relying party it is about (when known) and offers a way back to it. Every dynamic value is
 * escaped; no page contains inline script or style (the CSP forbids both), scripts, styles and
 * the icon come from fixed paths on the OP (assets.ts).
 */
import { FAVICON_PATH, LOGIN_SCRIPT_PATH, PAGE_REFERRER_POLICY, STYLE_PATH } from './assets.js';
import type { ClientDisplay } from './client-display.js';
import { fill, type Locale, type MessageKey, message, messagesOf, SCOPE_KEYS } from './messages.js';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and double- or single-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

/** Options of a page's frame. */
interface Frame {
  readonly locale: Locale;
  readonly title: string;
  /** The relying party the page is about: named at the top, its policy links at the bottom. */
  readonly client?: ClientDisplay;
  readonly script?: string;
}

function clientHeader(locale: Locale, client: ClientDisplay): string {
  const logo = client.logoUri
    ? `<img class="rp-logo" src="${escapeHtml(client.logoUri)}" alt="" width="48" height="48" referrerpolicy="no-referrer">`
    : '';
  return `<div class="rp">${logo}<div><span class="rp-label">${escapeHtml(message(locale, 'signingInTo'))}</span>
<strong class="rp-name">${escapeHtml(client.name)}</strong></div></div>`;
}

function clientLinks(locale: Locale, client: ClientDisplay): string {
  const links = [
    client.policyUri ? { href: client.policyUri, key: 'clientPolicy' as const } : undefined,
    client.tosUri ? { href: client.tosUri, key: 'clientTos' as const } : undefined,
  ].flatMap((link) =>
    link
      ? [
          `<a href="${escapeHtml(link.href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(
            fill(message(locale, link.key), { rp: client.name }),
          )}</a>`,
        ]
      : [],
  );
  return links.length ? `<p class="rp-links">${links.join('')}</p>` : '';
}

function layout(frame: Frame, body: string): string {
  const { locale, client } = frame;
  return `<!DOCTYPE html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${PAGE_REFERRER_POLICY}">
<title>${escapeHtml(frame.title)}</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLE_PATH}">
${frame.script ? `<script src="${escapeHtml(frame.script)}" defer></script>\n` : ''}</head>
<body>
<header class="brand"><img src="${FAVICON_PATH}" alt="" width="28" height="28"><span>${escapeHtml(message(locale, 'brand'))}</span></header>
<main id="main">
${client ? clientHeader(locale, client) : ''}
${body}
${client ? clientLinks(locale, client) : ''}
</main>
</body>
</html>
`;
}

/** "Cancel and return to <RP>": a POST form to the interaction's abort URL (the RP gets access_denied). */
function cancelForm(locale: Locale, client: ClientDisplay, abortUrl: string): string {
  return `<form class="cancel" method="post" action="${escapeHtml(abortUrl)}"><button class="link-button" type="submit">${escapeHtml(
    fill(message(locale, 'cancel'), { rp: client.name }),
  )}</button></form>`;
}

/** What the login page needs. */
export interface LoginPageInput {
  readonly locale: Locale;
  /** Where the script POSTs the certificate and signature (same origin). */
  readonly loginUrl: string;
  /** Where "cancel" posts (the RP gets access_denied). */
  readonly abortUrl: string;
  /** The challenge nonce the card signs. */
  readonly nonce: string;
  readonly helperPort: number;
  /** The relying party. */
  readonly client: ClientDisplay;
  /** Where people learn to install the helper. */
  readonly helperGuideUrl: string;
}

/**
 * The login page: the states the script switches between (all hidden but the first), the PIN
 * form, a live region for status, and every text the script may show, rendered as data elements.
 * When the helper cannot be reached the page links the helper's own status page on this PC
 * (http://127.0.0.1:PORT/, opened by the user) and the install guide.
 */
export function renderLoginPage(input: LoginPageInput): string {
  const t = (key: MessageKey) => escapeHtml(message(input.locale, key));
  const texts = Object.entries(messagesOf(input.locale))
    .map(([key, text]) => `<span data-key="${escapeHtml(key)}">${escapeHtml(text)}</span>`)
    .join('');
  const body = `<h1 id="heading" tabindex="-1">${t('heading')}</h1>
<p>${t('intro')}</p>
<noscript><p class="error">${t('noscript')}</p></noscript>
<div id="myna-login" data-nonce="${escapeHtml(input.nonce)}" data-helper-port="${input.helperPort}" data-login-url="${escapeHtml(input.loginUrl)}">
<p id="status" role="status" aria-live="polite">${t('stateLooking')}</p>
<p id="alert" role="alert" class="error"></p>
<ul id="guide" class="guide" hidden>
<li><a id="status-link" href="http://127.0.0.1:${input.helperPort}/" target="_blank" rel="noopener noreferrer">${t('stateHelperStatusLink')}</a></li>
<li><a id="guide-link" href="${escapeHtml(input.helperGuideUrl)}" target="_blank" rel="noopener">${t('stateInstallLink')}</a></li>
</ul>
<button id="retry" type="button" hidden>${t('retry')}</button>
<form id="pin-form" hidden autocomplete="off">
<label for="pin">${t('pinLabel')}</label>
<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" pattern="[0-9]{4}" minlength="4" maxlength="4" required aria-describedby="pin-hint">
<p id="pin-hint" class="hint">${t('pinHint')}</p>
<p id="last-try" hidden><input id="confirm-last-try" type="checkbox"> <label for="confirm-last-try">${t('lastTryConfirm')}</label></p>
<button id="submit" class="primary" type="submit">${t('submit')}</button>
</form>
</div>
${cancelForm(input.locale, input.client, input.abortUrl)}
<div id="myna-texts" hidden>${texts}</div>`;
  return layout(
    {
      locale: input.locale,
      title: message(input.locale, 'title'),
      client: input.client,
      script: LOGIN_SCRIPT_PATH,
    },
    body,
  );
}

/** What the consent page needs. */
export interface ConsentPageInput {
  readonly locale: Locale;
  readonly client: ClientDisplay;
  /** The scopes asked for; each known one is described in plain words. */
  readonly scopes: readonly string[];
  readonly confirmUrl: string;
  readonly abortUrl: string;
}

/** The consent page of a third-party client: what the service gets, in plain words; two forms, no script. */
export function renderConsentPage(input: ConsentPageInput): string {
  const { locale, client } = input;
  const t = (key: MessageKey) => escapeHtml(fill(message(locale, key), { rp: client.name }));
  const described = new Set(['openid', ...input.scopes]);
  const items = Object.entries(SCOPE_KEYS)
    .filter(([scope]) => described.has(scope))
    .map(([, key]) => `<li>${t(key)}</li>`)
    .join('');
  const body = `<h1>${t('consentTitle')}</h1>
<p>${t('consentIntro')}</p>
<h2>${t('consentScopes')}</h2>
<ul class="scopes">${items}</ul>
<p class="hint">${t('consentNotShared')}</p>
<div class="actions">
<form method="post" action="${escapeHtml(input.confirmUrl)}"><button class="primary" type="submit" autofocus>${t('consentAllow')}</button></form>
<form method="post" action="${escapeHtml(input.abortUrl)}"><button type="submit">${t('consentDeny')}</button></form>
</div>`;
  return layout({ locale, title: fill(message(locale, 'consentTitle'), { rp: client.name }), client }, body);
}

/** A link back to the relying party's site, or the plain advice to go back when it is unknown. */
function returnLink(locale: Locale, client: ClientDisplay | undefined): string {
  if (!client?.homeUri) return `<p>${escapeHtml(message(locale, 'errorIntro'))}</p>`;
  return `<p><a class="button" href="${escapeHtml(client.homeUri)}">${escapeHtml(
    fill(message(locale, 'returnTo'), { rp: client.name }),
  )}</a></p>`;
}

/** What an error page shows. */
export interface ErrorPageInput {
  readonly locale: Locale;
  /** The stable code, shown for support. */
  readonly code: string;
  /** The message in plain words, in the page's language. */
  readonly text: string;
  /** A technical detail in English (oidc-provider's description), shown on English pages only. */
  readonly detail?: string;
  /** The relying party, when known: the page links back to it. */
  readonly client?: ClientDisplay;
}

/** An error page: the message in plain words, a way back, the code for support; no stack, no personal data. */
export function renderErrorPage(input: ErrorPageInput): string {
  const { locale } = input;
  const t = (key: MessageKey) => escapeHtml(message(locale, key));
  const detail =
    input.detail && locale === 'en' && input.detail !== input.text
      ? `<p class="hint">${escapeHtml(fill(message(locale, 'errorDetail'), { detail: input.detail }))}</p>`
      : '';
  const body = `<h1>${t('errorTitle')}</h1>
<p role="alert" class="error">${escapeHtml(input.text)}</p>
${returnLink(locale, input.client)}
<p class="hint">${escapeHtml(message(locale, 'errorCode')).replace('{code}', `<code>${escapeHtml(input.code)}</code>`)}</p>
${detail}`;
  return layout({ locale, title: message(locale, 'errorTitle'), client: input.client }, body);
}

/**
 * The page at the URL of an interaction that is over (Back after signing in, an old tab): says
 * so and links back to the relying party when this browser finished it.
 */
export function renderInteractionDonePage(locale: Locale, client: ClientDisplay | undefined): string {
  const body = `<h1>${escapeHtml(message(locale, 'doneTitle'))}</h1>
<p>${escapeHtml(message(locale, 'doneText'))}</p>
${returnLink(locale, client)}`;
  return layout({ locale, title: message(locale, 'doneTitle'), client }, body);
}

/** The RP-initiated logout question; `form` is oidc-provider's hidden logout form (already safe HTML). */
export function renderLogoutPage(locale: Locale, form: string, client?: ClientDisplay): string {
  const t = (key: MessageKey) => escapeHtml(message(locale, key));
  const body = `<h1>${t('logoutTitle')}</h1>
<p>${t('logoutQuestion')}</p>
${form}
<div class="actions">
<button class="primary" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">${t('logoutYes')}</button>
<button type="submit" form="op.logoutForm">${t('logoutNo')}</button>
</div>`;
  return layout({ locale, title: message(locale, 'logoutTitle'), client }, body);
}

/** The page after a logout without post_logout_redirect_uri. */
export function renderLogoutDonePage(locale: Locale, client?: ClientDisplay): string {
  const next = client?.homeUri
    ? returnLink(locale, client)
    : `<p>${escapeHtml(message(locale, 'logoutClose'))}</p>`;
  const body = `<h1>${escapeHtml(message(locale, 'logoutDone'))}</h1>
${next}`;
  return layout({ locale, title: message(locale, 'logoutTitle'), client }, body);
}
