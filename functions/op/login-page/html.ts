/**
 * Server-rendered pages of the OP: login (and its card-answer mode; also the identity step's page,
 * purpose `verify-identity`), consent, the identity step's claim-by-claim consent, error,
 * "sign-in over", logout. Every page names the relying party it is about (when known) and offers a way back
 * to it. Every dynamic value is escaped; no page contains inline script or style (the CSP forbids
 * both), scripts, styles and the icon come from the OP's own paths (assets.ts).
 */

import type { CardOperationPurpose } from '../../../protocol/helper-protocol.js';
import type { ConsentItem } from '../../identity/consent-items.js';
import type { IdentityDisclosures } from '../../identity/disclosures.js';
import { FAVICON_PATH, PAGE_REFERRER_POLICY, STYLE_PATH } from './assets.js';
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
export interface Frame {
  readonly locale: Locale;
  readonly title: string;
  /** The relying party the page is about: named at the top, its policy links at the bottom. */
  readonly client?: ClientDisplay;
  readonly script?: string;
  /** More same-origin style sheets (paths), after the pages' own. */
  readonly styles?: readonly string[];
  /** Moves on to this same-origin path at once (a meta refresh: a new navigation, no fragment kept). */
  readonly refreshTo?: string;
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

/** The frame every page of the OP shares (brand, the relying party, its links) around `body`. */
export function layout(frame: Frame, body: string): string {
  const { locale, client } = frame;
  return `<!DOCTYPE html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${PAGE_REFERRER_POLICY}">
${frame.refreshTo ? `<meta http-equiv="refresh" content="0;url=${escapeHtml(frame.refreshTo)}">\n` : ''}<title>${escapeHtml(frame.title)}</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLE_PATH}">
${(frame.styles ?? []).map((path) => `<link rel="stylesheet" href="${escapeHtml(path)}">\n`).join('')}${frame.script ? `<script src="${escapeHtml(frame.script)}" defer></script>\n` : ''}</head>
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
  /**
   * What the card does: sign in (default), or verify the identity with the signing certificate
   * (the identity step; its words, and the answer goes to `loginUrl` = the identity URL).
   */
  readonly purpose?: CardOperationPurpose;
  /**
   * `login`: a new sign-in, served with a challenge; `card-answer`: the helper brought the browser
   * back with the card's answer in the fragment (no new challenge, no third-party resource).
   */
  readonly mode: 'login' | 'card-answer';
  /** The challenge the card signs and the seconds it has left (login mode). */
  readonly challenge?: { readonly nonce: string; readonly ttlSeconds: number };
  /** Where the script POSTs the certificate and signature (same origin). */
  readonly loginUrl: string;
  /** Where the script asks for a new challenge (same origin). */
  readonly challengeUrl: string;
  /** The absolute card-answer URL the helper returns to on the navigation path. */
  readonly returnUrl: string;
  /** Where "cancel" posts (the RP gets access_denied). */
  readonly abortUrl: string;
  readonly helperPort: number;
  /** The relying party. */
  readonly client: ClientDisplay;
  /** Where people learn to install the helper. */
  readonly helperGuideUrl: string;
  /** The login script's (content-hashed) path. */
  readonly scriptPath: string;
}

/**
 * The login page: no PIN field (the PIN is typed into the helper's own window); a "Sign in with
 * MyNumber card" button, a live region for status, an alert, guidance, "try again", and every
 * text the script may show, rendered as data elements. When the helper cannot be reached the
 * page links the helper's own status page on this PC (http://127.0.0.1:PORT/, opened by the
 * user) and the install guide. The card-answer mode shows no logo of the relying party: nothing
 * is loaded from another site while the answer is in the address bar.
 */
export function renderLoginPage(input: LoginPageInput): string {
  const t = (key: MessageKey) => escapeHtml(fill(message(input.locale, key), { rp: input.client.name }));
  const identity = input.purpose === 'verify-identity';
  const texts = Object.entries(messagesOf(input.locale))
    .map(([key, text]) => `<span data-key="${escapeHtml(key)}">${escapeHtml(text)}</span>`)
    .join('');
  const data = {
    mode: input.mode,
    purpose: input.purpose ?? 'sign-in',
    ...(input.challenge ? { nonce: input.challenge.nonce } : {}),
    'challenge-ttl': String(input.challenge?.ttlSeconds ?? 0),
    'helper-port': String(input.helperPort),
    'login-url': input.loginUrl,
    'challenge-url': input.challengeUrl,
    'return-url': input.returnUrl,
  };
  const attributes = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  const { logoUri: _logo, ...withoutLogo } = input.client;
  const client = input.mode === 'card-answer' ? withoutLogo : input.client;
  const body = `<h1 id="heading" tabindex="-1">${t(identity ? 'identityTitle' : 'heading')}</h1>
<p>${t(identity ? 'identityIntro' : 'intro')}</p>
<noscript><p class="error">${t('noscript')}</p></noscript>
<div id="myna-login"${attributes}>
<p id="alert" role="alert" class="error" tabindex="-1"></p>
<p id="status" role="status" aria-live="polite">${t('statePreparing')}</p>
<p id="hint" class="hint" hidden></p>
<ul id="guide" class="guide" hidden>
<li><a id="status-link" href="http://127.0.0.1:${input.helperPort}/" target="_blank" rel="noopener noreferrer">${t('stateHelperStatusLink')}</a></li>
<li><a id="guide-link" href="${escapeHtml(input.helperGuideUrl)}" target="_blank" rel="noopener">${t('stateInstallLink')}</a></li>
</ul>
<button id="start" class="primary" type="button" hidden>${t(identity ? 'identityStart' : 'start')}</button>
<button id="retry" class="primary" type="button" hidden>${t('retry')}</button>
</div>
${cancelForm(input.locale, client, input.abortUrl)}
<div id="myna-texts" hidden>${texts}</div>`;
  return layout(
    {
      locale: input.locale,
      title: message(input.locale, identity ? 'identityTitle' : 'title'),
      client,
      script: input.scriptPath,
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

/** What the identity step's consent page needs. */
export interface IdentityConsentPageInput {
  readonly locale: Locale;
  readonly client: ClientDisplay;
  /** Why the relying party asks, in its words (client metadata), if it says. */
  readonly purpose?: string;
  /** Each claim with the exact value the RP would receive (identity/consent-items.ts). */
  readonly items: readonly ConsentItem[];
  /** What the release carries besides the claims, and what the sign-in service keeps (identity/disclosures.ts). */
  readonly disclosures: IdentityDisclosures;
  /** Scopes of the request not granted yet (their plain-words descriptions are listed too). */
  readonly scopes: readonly string[];
  readonly confirmUrl: string;
  readonly abortUrl: string;
}

/** One line of the identity consent's list: a claim (its box submits `claim`) or a disclosure. */
interface ConsentRow {
  readonly id: string;
  readonly label: string;
  readonly required: boolean;
  /** The claim id the box submits; a disclosure's box (always required) submits nothing. */
  readonly claim?: string;
  readonly value?: string;
  /** Escaped notes, said with the box (aria-describedby). */
  readonly notes: readonly string[];
}

function consentRow(locale: Locale, row: ConsentRow): string {
  const tag = row.required
    ? `<span class="tag required">${escapeHtml(message(locale, 'identityConsentRequired'))}</span>`
    : `<span class="tag">${escapeHtml(message(locale, 'identityConsentOptional'))}</span>`;
  const described = row.notes.length ? ` aria-describedby="${row.id}-note"` : '';
  const submitted = row.claim === undefined ? '' : ` name="claim" value="${escapeHtml(row.claim)}"`;
  const box = `<input type="checkbox" id="${row.id}"${submitted} checked${row.required ? ' disabled' : ''}${described}>`;
  const value = row.value === undefined ? '' : `<span class="claim-value">${escapeHtml(row.value)}</span>`;
  const note = row.notes.length
    ? `<span class="hint claim-note" id="${row.id}-note">${row.notes.join(' ')}</span>`
    : '';
  const kind = row.claim === undefined ? 'claim disclosure' : 'claim';
  return `<li class="${kind}">${box}<label for="${row.id}"><span class="claim-label">${escapeHtml(row.label)}</span>${tag}${value}${note}</label></li>`;
}

/**
 * The identity step's consent, claim by claim: the exact values the relying party would receive,
 * its name and purpose; optional claims are ticked checkboxes the person may untick, required
 * ones ticked and disabled, marked as such (a disabled box is not submitted: the OP adds required
 * claims itself). What goes with the claims whatever is unticked (`disclosures`: the signing
 * certificate itself, its serial) are required lines of the same list, and the page says what the
 * sign-in service keeps (nothing, or the evidence, encrypted, for N days) — it never says the
 * relying party gets "only what is ticked" when the certificate goes too. A form POST without
 * script; a fieldset with a legend; every box has its label, every note is tied to its box.
 */
export function renderIdentityConsentPage(input: IdentityConsentPageInput): string {
  const { locale, client, disclosures } = input;
  const t = (key: MessageKey, values: Record<string, string | number> = {}) =>
    escapeHtml(fill(message(locale, key), { rp: client.name, ...values }));
  const claimRows = input.items.map(
    (item, index): ConsentRow => ({
      id: `claim-${index}`,
      claim: item.claim,
      label: item.label,
      value: item.value,
      required: item.required,
      notes: [
        item.substituted ? t('identityConsentSubstituted') : undefined,
        item.purpose ? t('identityConsentClaimPurpose', { purpose: item.purpose }) : undefined,
      ].filter((note) => note !== undefined),
    }),
  );
  const disclosureRows: ConsentRow[] = [
    ...(disclosures.signingCertificate
      ? [
          {
            id: 'disclosure-certificate',
            label: message(locale, 'identityConsentCertificate'),
            required: true,
            notes: [t('identityConsentCertificateNote')],
          },
        ]
      : []),
    // (The certificate carries its serial: a line of its own only when the serial goes alone.)
    ...(disclosures.signingSerial && !disclosures.signingCertificate
      ? [
          {
            id: 'disclosure-serial',
            label: message(locale, 'identityConsentSerial'),
            required: true,
            notes: [t('identityConsentSerialNote')],
          },
        ]
      : []),
  ];
  const rows = [...claimRows, ...disclosureRows].map((row) => consentRow(locale, row)).join('\n');
  const described = Object.entries(SCOPE_KEYS)
    .filter(([scope]) => input.scopes.includes(scope))
    .map(([, key]) => `<li>${t(key)}</li>`)
    .join('');
  const also = described
    ? `<h2>${t('identityConsentAlso')}</h2>\n<ul class="scopes">${described}</ul>\n`
    : '';
  const purpose = input.purpose
    ? `<p class="purpose">${t('identityConsentPurpose', { purpose: input.purpose })}</p>\n`
    : '';
  const required = [...claimRows, ...disclosureRows].some((row) => row.required)
    ? `<p class="hint">${t('identityConsentRequiredNote')}</p>\n`
    : '';
  const kept =
    disclosures.retentionDays === undefined
      ? t('identityConsentNotKept')
      : t('identityConsentKept', { n: disclosures.retentionDays });
  const intro = disclosures.signingCertificate ? 'identityConsentIntroCertificate' : 'identityConsentIntro';
  // One form: "share" posts the ticked boxes, "do not share" posts to the abort URL (formaction).
  const body = `<h1>${t('identityConsentTitle')}</h1>
<p>${t(intro)}</p>
${purpose}<form method="post" action="${escapeHtml(input.confirmUrl)}">
<fieldset class="claims"><legend>${t('identityConsentLegend')}</legend>
<ul>
${rows}
</ul>
</fieldset>
${required}${also}<p class="hint">${kept}</p>
<div class="actions">
<button class="primary" type="submit">${t('identityConsentAllow')}</button>
<button type="submit" formaction="${escapeHtml(input.abortUrl)}">${t('identityConsentDeny')}</button>
</div>
</form>`;
  return layout(
    { locale, title: fill(message(locale, 'identityConsentTitle'), { rp: client.name }), client },
    body,
  );
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
 * so and links back to the relying party when this browser finished it. `refreshTo`: where the
 * page moves on at once (the card-answer route, to drop the answer's fragment from the address bar).
 */
export function renderInteractionDonePage(
  locale: Locale,
  client: ClientDisplay | undefined,
  refreshTo?: string,
): string {
  const body = `<h1>${escapeHtml(message(locale, 'doneTitle'))}</h1>
<p>${escapeHtml(message(locale, 'doneText'))}</p>
${returnLink(locale, client)}`;
  return layout({ locale, title: message(locale, 'doneTitle'), client, refreshTo }, body);
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
