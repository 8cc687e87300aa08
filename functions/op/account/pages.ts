/**
 * The "My account" pages, server-rendered in the login page's frame and style sheet (plus the
 * small account sheet below): the overview (services, linked certificates, the account's
 * actions), the deletion's confirmation, and the pages after deletion, sign-out and a refusal.
 * No page has a script: every action is a plain form POST carrying the session's CSRF token, and
 * the export a plain download link, so the pages work without JavaScript and with the keyboard
 * alone. Every dynamic value is escaped. Values of identity claims never appear: the OP does not
 * keep them, only which claims went to whom and when.
 */
import type { AccountOverview, LinkedCertificate, ServiceEntry } from '../../accounts/account-services.js';
import { claimLabel } from '../../identity/consent-items.js';
import { escapeHtml, layout } from '../login-page/html.js';
import { fill, type Locale, type MessageKey, message, SCOPE_KEYS } from '../login-page/messages.js';
import { ACCOUNT_PATH } from './account-client.js';
import type { AccountErrorCode } from './account-error.js';
import { ACCOUNT_STYLE_PATH } from './style.js';
import { type AccountTextKeyOrError, accountText } from './texts.js';

/** What `done` on the overview reports after an action (the redirect's `done` parameter). */
export type AccountNotice =
  | { readonly kind: 'withdrawn'; readonly name: string }
  | { readonly kind: 'signed-out-everywhere' };

/** A service as the page shows it: its entry and how it is named (client display). */
export interface ShownService {
  readonly entry: ServiceEntry;
  readonly name: string;
  /** An https logo (the page's CSP admits its origin). */
  readonly logoUri?: string;
}

/** What the overview needs. */
export interface AccountPageInput {
  readonly locale: Locale;
  readonly overview: AccountOverview;
  readonly services: readonly ShownService[];
  readonly csrfToken: string;
  /** When the page's session ends. */
  readonly sessionEndsAt: Date;
  readonly notice?: AccountNotice;
}

const t = (locale: Locale, key: AccountTextKeyOrError, values: Record<string, string | number> = {}) =>
  escapeHtml(fill(accountText(locale, key), values));

const DATE_TIME: Readonly<Record<Locale, Intl.DateTimeFormat>> = {
  ja: new Intl.DateTimeFormat('ja-JP', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Asia/Tokyo',
  }),
  en: new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Asia/Tokyo',
  }),
};
const DATE: Readonly<Record<Locale, Intl.DateTimeFormat>> = {
  ja: new Intl.DateTimeFormat('ja-JP', { dateStyle: 'long', timeZone: 'Asia/Tokyo' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'Asia/Tokyo' }),
};
/** A label's colon: full-width in Japanese. */
const COLON: Readonly<Record<Locale, string>> = { ja: '：', en: ': ' };
/** The time zone every date is shown in (the card is Japanese; the page says so). */
const ZONE: Readonly<Record<Locale, string>> = { ja: '（日本時間）', en: ' (Japan time)' };

const TIME_OF_DAY: Readonly<Record<Locale, Intl.DateTimeFormat>> = {
  ja: new Intl.DateTimeFormat('ja-JP', { timeStyle: 'short', timeZone: 'Asia/Tokyo' }),
  en: new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Asia/Tokyo' }),
};

/** A `<time>` element of the time of day of `at` (Japan time). */
function clock(locale: Locale, at: Date): string {
  return `<time datetime="${escapeHtml(at.toISOString())}">${escapeHtml(`${TIME_OF_DAY[locale].format(at)}${ZONE[locale]}`)}</time>`;
}

/** A `<time>` element of `at`, with or without the time of day. */
function time(locale: Locale, at: Date | undefined, withTime = true): string {
  if (!at) return t(locale, 'never');
  const text = withTime ? `${DATE_TIME[locale].format(at)}${ZONE[locale]}` : DATE[locale].format(at);
  return `<time datetime="${escapeHtml(at.toISOString())}">${escapeHtml(text)}</time>`;
}

/** A scope in plain words where the login page has words for it, with its technical name. */
function scopeItem(locale: Locale, scope: string): string {
  const key = (SCOPE_KEYS as Readonly<Record<string, MessageKey>>)[scope];
  const words = key ? message(locale, key) : claimLabel(scope, locale);
  const shown = words === scope ? '' : `${escapeHtml(words)} `;
  return `<li>${shown}<code>${escapeHtml(scope)}</code></li>`;
}

/** Claim names in the page's language (the technical name where there are no words for it). */
function claimNames(locale: Locale, claims: readonly string[]): string {
  return claims.map((claim) => escapeHtml(claimLabel(claim, locale))).join(locale === 'ja' ? '、' : ', ');
}

/** A hidden field with the session's CSRF token. */
function csrfField(csrfToken: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">`;
}

function serviceItem(locale: Locale, shown: ShownService, index: number, csrfToken: string): string {
  const { entry, name } = shown;
  const id = `service-${index}`;
  const logo = shown.logoUri
    ? `<img class="rp-logo" src="${escapeHtml(shown.logoUri)}" alt="" width="48" height="48" referrerpolicy="no-referrer">`
    : '';
  const received = entry.scopes.map((scope) => scopeItem(locale, scope));
  const claims = entry.claims.length
    ? `<p>${t(locale, 'claimNames')}${COLON[locale]}${claimNames(locale, entry.claims)}</p>`
    : '';
  const receivedHtml = received.length
    ? `<ul>${received.join('')}</ul>${claims}`
    : `${t(locale, 'receivedNothing')}${claims}`;
  const releases = entry.identityReleases.length
    ? `<ul>${entry.identityReleases
        .map(
          (release) =>
            `<li>${fill(escapeHtml(accountText(locale, 'identityRelease')), {
              date: time(locale, release.at),
              names: claimNames(locale, release.claims),
            })}</li>`,
        )
        .join('')}</ul>`
    : t(locale, 'identityNone');
  const evidence = entry.retainedEvidence.length
    ? `<dt>${t(locale, 'retainedEvidence')}</dt><dd><ul>${entry.retainedEvidence
        .map(
          (record) =>
            `<li>${fill(escapeHtml(accountText(locale, 'retainedEvidenceItem')), {
              created: time(locale, record.createdAt),
              until: time(locale, record.keptUntil, false),
              id: `<code>${escapeHtml(record.recordId)}</code>`,
            })}</li>`,
        )
        .join('')}</ul><p class="hint">${t(locale, 'retainedEvidenceHelp', { name })}</p></dd>\n`
    : '';
  const access = [
    entry.hasGrant ? t(locale, 'accessActive') : t(locale, 'accessNone'),
    entry.sessions > 0 ? t(locale, 'accessSessions', { n: entry.sessions }) : undefined,
  ]
    .filter(Boolean)
    .join(locale === 'ja' ? '・' : ' · ');
  const withdraw =
    entry.hasGrant || entry.sessions > 0
      ? `<form method="post" action="${ACCOUNT_PATH}/withdraw">${csrfField(csrfToken)}<input type="hidden" name="client_id" value="${escapeHtml(entry.clientId)}">
<button class="danger" type="submit" aria-describedby="${id}-withdraw-help">${t(locale, 'withdraw', { name })}</button>
<p class="hint" id="${id}-withdraw-help">${t(locale, 'withdrawHelp')}</p></form>`
      : '';
  const shared = entry.sharedIdentifier
    ? `<dt>${t(locale, 'sharedIdentifier')}</dt><dd><strong>${t(locale, 'sharedIdentifierText')}</strong></dd>\n`
    : '';
  const fingerprint = entry.pseudonymFingerprint
    ? `<span class="fingerprint" aria-describedby="${id}-fingerprint-help">${escapeHtml(entry.pseudonymFingerprint)}</span>
<span class="hint" id="${id}-fingerprint-help">${t(locale, 'fingerprintHelp')}</span>`
    : t(locale, 'fingerprintUnknown');
  return `<li class="service"><article aria-labelledby="${id}-name">
<div class="rp">${logo}<h3 id="${id}-name">${escapeHtml(name)}</h3></div>
<dl class="facts">
<dt>${t(locale, 'firstSignIn')}</dt><dd>${time(locale, entry.firstSignInAt)}</dd>
<dt>${t(locale, 'lastSignIn')}</dt><dd>${time(locale, entry.lastSignInAt)}</dd>
<dt>${t(locale, 'received')}</dt><dd>${receivedHtml}</dd>
<dt>${t(locale, 'identityReleases')}</dt><dd>${releases}</dd>
${evidence}<dt>${t(locale, 'backchannel')}</dt><dd>${t(locale, entry.backchannelLogout ? 'backchannelYes' : 'backchannelNo')}</dd>
${shared}<dt>${t(locale, 'fingerprint')}</dt><dd>${fingerprint}</dd>
<dt>${t(locale, 'access')}</dt><dd>${access}</dd>
</dl>
${withdraw}
</article></li>`;
}

const CERTIFICATE_STATUS = {
  active: 'certificateActive',
  revoked: 'certificateRevoked',
  expired: 'certificateExpired',
} as const satisfies Record<LinkedCertificate['status'], AccountTextKeyOrError>;

function certificateItem(locale: Locale, certificate: LinkedCertificate): string {
  const status = CERTIFICATE_STATUS[certificate.status];
  const tag = certificate.status === 'active' ? 'tag' : 'tag required';
  const issued = certificate.issueDateKnown ? 'certificateIssued' : 'certificateFirstUsed';
  return `<li>${t(locale, issued)}${COLON[locale]}${time(locale, certificate.issuedAt, false)}
${locale === 'ja' ? '・' : '· '}${t(locale, 'certificateGeneration')}${COLON[locale]}<code>${escapeHtml(certificate.caGeneration)}</code>
<span class="${tag}">${t(locale, status)}</span></li>`;
}

function noticeHtml(locale: Locale, notice: AccountNotice | undefined): string {
  if (!notice) return '';
  const text =
    notice.kind === 'withdrawn'
      ? t(locale, 'doneWithdrawn', { name: notice.name })
      : t(locale, 'doneSignedOutEverywhere');
  return `<p class="done" role="status">${text}</p>\n`;
}

/** The names of the services that get the shared (public) identifier, as a list in words. */
function sharedIdentifierNames(locale: Locale, services: readonly ShownService[]): string | undefined {
  const names = services.filter(({ entry }) => entry.sharedIdentifier).map(({ name }) => name);
  return names.length ? new Intl.ListFormat(locale, { type: 'conjunction' }).format(names) : undefined;
}

/**
 * The overview: services, certificates, the account's actions. The intro's "every service gets
 * its own pseudonym" names its exception when a service gets the shared identifier.
 */
export function renderAccountPage(input: AccountPageInput): string {
  const { locale, overview, csrfToken } = input;
  const shared = input.services.some(({ entry }) => entry.sharedIdentifier)
    ? ` ${t(locale, 'introShared')}`
    : '';
  const services = input.services.length
    ? `<ul class="services">
${input.services.map((service, index) => serviceItem(locale, service, index, csrfToken)).join('\n')}
</ul>`
    : `<p>${t(locale, 'servicesNone')}</p>`;
  const certificates = overview.certificates.length
    ? `<h2>${t(locale, 'certificatesHeading')}</h2>
<p class="hint">${t(locale, 'certificatesIntro')}</p>
<ul class="certificates">${overview.certificates.map((certificate) => certificateItem(locale, certificate)).join('')}</ul>`
    : '';
  const body = `<h1>${t(locale, 'heading')}</h1>
${noticeHtml(locale, input.notice)}<p>${t(locale, 'intro')}${shared}</p>
<p class="hint">${fill(escapeHtml(accountText(locale, 'sessionNote')), { until: clock(locale, input.sessionEndsAt) })}</p>
<h2>${t(locale, 'servicesHeading')}</h2>
<p class="hint">${t(locale, 'servicesIntro')}</p>
${services}
${certificates}
<h2>${t(locale, 'actionsHeading')}</h2>
<div class="account-actions">
<p><a class="button" href="${ACCOUNT_PATH}/export" download aria-describedby="export-help">${t(locale, 'export')}</a>
<span class="hint" id="export-help">${t(locale, 'exportHelp')}</span></p>
<form method="post" action="${ACCOUNT_PATH}/sign-out-everywhere">${csrfField(csrfToken)}<button type="submit" aria-describedby="everywhere-help">${t(locale, 'signOutEverywhere')}</button>
<span class="hint" id="everywhere-help">${t(locale, 'signOutEverywhereHelp')}</span></form>
<p><a class="button danger" href="${ACCOUNT_PATH}/delete" aria-describedby="delete-help">${t(locale, 'deleteAccount')}</a>
<span class="hint" id="delete-help">${t(locale, 'deleteAccountHelp')}</span></p>
</div>
${signOutForm(locale, csrfToken)}`;
  return layout({ locale, title: accountText(locale, 'pageTitle'), styles: [ACCOUNT_STYLE_PATH] }, body);
}

function signOutForm(locale: Locale, csrfToken: string): string {
  return `<form class="cancel" method="post" action="${ACCOUNT_PATH}/sign-out">${csrfField(csrfToken)}<button class="link-button" type="submit">${t(locale, 'signOut')}</button></form>`;
}

/**
 * The deletion's confirmation: what happens, in plain words (every service sees a new pseudonym
 * next time, except the services with the shared identifier, named: they can recognise the card
 * again; a record of an identity check a service must keep stays until its date, unlinked),
 * a checkbox the person must tick (required: the browser says so, and the OP checks it), the
 * delete button, and the way back.
 */
export function renderDeleteConfirmPage(
  locale: Locale,
  csrfToken: string,
  services: readonly ShownService[],
): string {
  const kept = services.flatMap(({ entry, name }) => {
    const until = entry.retainedEvidence.reduce<Date | undefined>(
      (latest, record) => (latest && latest >= record.keptUntil ? latest : record.keptUntil),
      undefined,
    );
    return until
      ? [
          `<li>${fill(escapeHtml(accountText(locale, 'deleteConsequenceEvidence')), {
            name: escapeHtml(name),
            date: time(locale, until, false),
          })}</li>`,
        ]
      : [];
  });
  const sharedNames = sharedIdentifierNames(locale, services);
  const shared = sharedNames
    ? ` ${t(locale, 'deleteConsequencePseudonymShared', { names: sharedNames })}`
    : '';
  const body = `<h1>${t(locale, 'deleteTitle')}</h1>
<p>${t(locale, 'deleteIntro')}</p>
<ul class="scopes" aria-label="${t(locale, 'deleteConsequences')}">
<li>${t(locale, 'deleteConsequenceServices')}</li>
<li><strong>${t(locale, 'deleteConsequencePseudonym')}</strong>${shared}</li>
<li>${t(locale, 'deleteConsequenceHistory')}</li>
${kept.join('\n')}${kept.length ? '\n' : ''}<li>${t(locale, 'deleteConsequenceNoUndo')}</li>
</ul>
<form method="post" action="${ACCOUNT_PATH}/delete">${csrfField(csrfToken)}
<p class="confirm"><input type="checkbox" id="confirm" name="confirm" value="yes" required><label for="confirm">${t(locale, 'deleteConfirm')}</label></p>
<div class="actions">
<button class="danger primary" type="submit">${t(locale, 'deleteSubmit')}</button>
<a class="button" href="${ACCOUNT_PATH}">${t(locale, 'deleteCancel')}</a>
</div>
</form>
${signOutForm(locale, csrfToken)}`;
  return layout({ locale, title: accountText(locale, 'deleteTitle'), styles: [ACCOUNT_STYLE_PATH] }, body);
}

/** A page with a heading, a text and a way (back) to the account page; `alert` for refusals. */
function messagePage(
  locale: Locale,
  title: AccountTextKeyOrError,
  text: string,
  link: AccountTextKeyOrError,
  extra = '',
): string {
  const body = `<h1>${t(locale, title)}</h1>
${text}
<p><a class="button" href="${ACCOUNT_PATH}">${t(locale, link)}</a></p>
${extra}`;
  return layout({ locale, title: accountText(locale, title), styles: [ACCOUNT_STYLE_PATH] }, body);
}

/** After the deletion: the account is gone; signing in again starts a new one. */
export function renderDeletedPage(locale: Locale): string {
  return messagePage(
    locale,
    'deletedTitle',
    `<p role="status">${t(locale, 'deletedText')}</p>`,
    'signInAgain',
  );
}

/** After signing out of the page. */
export function renderSignedOutPage(locale: Locale): string {
  return messagePage(
    locale,
    'signedOutTitle',
    `<p role="status">${t(locale, 'signedOutText')}</p>`,
    'signInAgain',
  );
}

/** A refusal: the message in plain words, the code for support, the way back. */
export function renderAccountErrorPage(locale: Locale, code: AccountErrorCode): string {
  const codeLine = escapeHtml(accountText(locale, 'errorCode')).replace(
    '{code}',
    `<code>${escapeHtml(code)}</code>`,
  );
  return messagePage(
    locale,
    'errorTitle',
    `<p role="alert" class="error">${t(locale, code)}</p>`,
    'backToAccount',
    `<p class="hint">${codeLine}</p>`,
  );
}
