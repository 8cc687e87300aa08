/**
 * What every page the helper serves to people shares — the status page and the navigation path's
 * pages: one look (an inline style allowed by its hash), no script at all, the security headers
 * (never framed, never cached, no referrer, no CORS), the language choice (`?lang=`, else
 * Accept-Language) and the document frame.
 */
import { createHash } from 'node:crypto';
import type { HelperLanguage } from '../../protocol/helper-protocol.js';

const STYLE = `body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}code{background:#f1f1f1;padding:0 .2rem}
.ok{color:#0a6b2d;font-weight:bold}.warn{color:#a10d0d}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
nav{float:right}.site{font-size:1.15rem;font-weight:bold;word-break:break-all}
:lang(ja) :is(h1,h2,p,li,a):not(.site){word-break:auto-phrase}`;

/** The Content-Security-Policy of every helper page: nothing but its own inline style; never framed. */
export const HELPER_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The security headers of every helper page response (pages, refusals and redirects alike). */
export const HELPER_PAGE_HEADERS = {
  'content-security-policy': HELPER_PAGE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

/** The language for `?lang=` or else the first of Accept-Language that the page speaks (English by default). */
export function pageLanguage(url: URL, acceptLanguage: string | undefined): HelperLanguage {
  const asked = url.searchParams.get('lang');
  if (asked === 'ja' || asked === 'en') return asked;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.trim().split(';')[0]?.toLowerCase() ?? '';
    if (tag === 'ja' || tag.startsWith('ja-')) return 'ja';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** A whole helper page: `body` is HTML the caller escaped; `head` extra head elements. */
export function helperPage(page: {
  readonly lang: HelperLanguage;
  readonly title: string;
  readonly body: string;
  readonly head?: string;
}): string {
  return `<!doctype html>
<html lang="${page.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${page.head ?? ''}<title>${page.title}</title><style>${STYLE}</style></head>
<body>${page.body}
</body></html>
`;
}

/** `text` safe inside HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
