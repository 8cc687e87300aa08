/**
 * Server-rendered pages of the OP: login, consent, error, logout. Every dynamic value is escaped;
 * no page contains inline script or style (the CSP forbids both), scripts and styles come from
 * fixed paths on the OP (assets.ts).
 */
import { LOGIN_SCRIPT_PATH, STYLE_PATH } from './assets.js';
import { type Locale, type MessageKey, message, messagesOf } from './messages.js';

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

function layout(locale: Locale, title: string, body: string, script?: string): string {
  return `<!DOCTYPE html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STYLE_PATH}">
${script ? `<script src="${escapeHtml(script)}" defer></script>\n` : ''}</head>
<body>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

/** What the login page needs. */
export interface LoginPageInput {
  readonly locale: Locale;
  /** Where the script POSTs the certificate and signature (same origin). */
  readonly loginUrl: string;
  /** The challenge nonce the card signs. */
  readonly nonce: string;
  readonly helperPort: number;
  /** The relying party's display name. */
  readonly clientName: string;
  /** Where the install instructions of the helper are. */
  readonly helperGuideUrl: string;
}

/**
 * The login page: the states the script switches between (all hidden but the first), the PIN
 * form, a live region for status, and every text the script may show, rendered as data elements.
 */
export function renderLoginPage(input: LoginPageInput): string {
  const t = (key: MessageKey) => escapeHtml(message(input.locale, key));
  const texts = Object.entries(messagesOf(input.locale))
    .map(([key, text]) => `<span data-key="${escapeHtml(key)}">${escapeHtml(text)}</span>`)
    .join('');
  const body = `<h1 id="heading" tabindex="-1">${t('heading')}</h1>
<p class="client">${escapeHtml(input.clientName)}</p>
<p>${t('intro')}</p>
<noscript><p class="error">${t('noscript')}</p></noscript>
<div id="myna-login" data-nonce="${escapeHtml(input.nonce)}" data-helper-port="${input.helperPort}" data-login-url="${escapeHtml(input.loginUrl)}">
<p id="status" role="status" aria-live="polite">${t('stateLooking')}</p>
<p id="alert" role="alert" class="error"></p>
<p id="guide" hidden><a id="guide-link" href="${escapeHtml(input.helperGuideUrl)}" target="_blank" rel="noopener">${t('stateInstallLink')}</a></p>
<button id="retry" type="button" hidden>${t('retry')}</button>
<form id="pin-form" hidden autocomplete="off">
<label for="pin">${t('pinLabel')}</label>
<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" pattern="[0-9]{4}" minlength="4" maxlength="4" required aria-describedby="pin-hint">
<p id="pin-hint" class="hint">${t('pinHint')}</p>
<p id="last-try" hidden><input id="confirm-last-try" type="checkbox"> <label for="confirm-last-try">${t('lastTryConfirm')}</label></p>
<button id="submit" type="submit">${t('submit')}</button>
</form>
</div>
<div id="myna-texts" hidden>${texts}</div>`;
  return layout(input.locale, message(input.locale, 'title'), body, LOGIN_SCRIPT_PATH);
}

/** What the consent page needs. */
export interface ConsentPageInput {
  readonly locale: Locale;
  readonly clientName: string;
  readonly scopes: readonly string[];
  readonly confirmUrl: string;
  readonly abortUrl: string;
}

/** The consent page of a third-party client: two plain forms, no script. */
export function renderConsentPage(input: ConsentPageInput): string {
  const t = (key: MessageKey) => escapeHtml(message(input.locale, key));
  const scopes = input.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('');
  const body = `<h1>${t('consentTitle')}</h1>
<p>${t('consentIntro')} <strong>${escapeHtml(input.clientName)}</strong></p>
<h2>${t('consentScopes')}</h2>
<ul>${scopes}</ul>
<form method="post" action="${escapeHtml(input.confirmUrl)}"><button type="submit" autofocus>${t('consentAllow')}</button></form>
<form method="post" action="${escapeHtml(input.abortUrl)}"><button type="submit">${t('consentDeny')}</button></form>`;
  return layout(input.locale, message(input.locale, 'consentTitle'), body);
}

/** An error page: the message in plain words, the code for support, no stack, no personal data. */
export function renderErrorPage(locale: Locale, code: string, text: string): string {
  const body = `<h1>${escapeHtml(message(locale, 'errorTitle'))}</h1>
<p role="alert">${escapeHtml(text)}</p>
<p>${escapeHtml(message(locale, 'errorIntro'))}</p>
<p class="hint">${escapeHtml(message(locale, 'errorCode'))}: <code>${escapeHtml(code)}</code></p>`;
  return layout(locale, message(locale, 'errorTitle'), body);
}

/** The RP-initiated logout question; `form` is oidc-provider's hidden logout form (already safe HTML). */
export function renderLogoutPage(locale: Locale, form: string): string {
  const t = (key: MessageKey) => escapeHtml(message(locale, key));
  const body = `<h1>${t('logoutTitle')}</h1>
<p>${t('logoutQuestion')}</p>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">${t('logoutYes')}</button>
<button type="submit" form="op.logoutForm">${t('logoutNo')}</button>`;
  return layout(locale, message(locale, 'logoutTitle'), body);
}

/** The page after a logout without post_logout_redirect_uri. */
export function renderLogoutDonePage(locale: Locale): string {
  return layout(
    locale,
    message(locale, 'logoutTitle'),
    `<h1>${escapeHtml(message(locale, 'logoutDone'))}</h1>`,
  );
}
