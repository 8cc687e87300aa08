/**
 * The asset paths, the style sheet and the Content-Security-Policy of the OP's own pages. The
 * script and the style sheet are served under content-hashed paths (`/assets/myna.<hash>.css`)
 * with IMMUTABLE_CACHE_CONTROL: a browser fetches each version once and never revalidates it; a
 * new version has a new path.
 */
import { createHash } from 'node:crypto';

/** `Cache-Control` of a content-hashed asset: cached for a year, never revalidated. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The content-hashed path of an asset: `/assets/<name>.<first 16 hex digits of SHA-256(body)>.<ext>`. */
export function hashedAssetPath(name: string, ext: string, body: string): string {
  return `/assets/${name}.${createHash('sha256').update(body).digest('hex').slice(0, 16)}.${ext}`;
}

/**
 * The referrer policy of every OP page (header and `<meta>`): browsers send the page's origin on
 * its own same-origin form posts (the CSRF check needs it: under `no-referrer` a form posts
 * `Origin: null`), and no Referer at all to any other site — the RP included, so the
 * interaction URL never leaves the OP.
 */
export const PAGE_REFERRER_POLICY = 'same-origin';

/**
 * The response headers of every OP page besides its Content-Type and the headers every HTML
 * answer gets (security-headers.ts: nosniff, the referrer policy, HSTS); the CSP admits images
 * from the origin of the relying party's logo when the page shows one.
 */
export function pageHeaders(helperPort: number, logoUri?: string): Record<string, string> {
  return {
    'content-security-policy': pageCsp(helperPort, logoUri ? new URL(logoUri).origin : undefined),
    'cache-control': 'no-store',
  };
}

/** The icon of every page (also answered at /favicon.ico, which browsers ask for on their own). */
export const FAVICON_PATH = '/assets/favicon.svg';
/** A MyNumber-style card: blue card, gold chip, two lines of text. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="6" width="28" height="20" rx="3" fill="#1a4b8c"/><rect x="6" y="12" width="7" height="6" rx="1" fill="#f2c14e"/><rect x="16" y="12" width="10" height="2" rx="1" fill="#fff"/><rect x="16" y="16" width="7" height="2" rx="1" fill="#fff"/></svg>
`;

/** The pages' only style sheet (served, never inline). A relying party's logo is capped at 48 px. */
export const STYLE_SHEET = `*{box-sizing:border-box}[hidden]{display:none!important}
html{background:#eef2f6;min-height:100%}
body{min-height:100vh;font-family:"Hiragino Sans","Hiragino Kaku Gothic ProN","Noto Sans JP","Noto Sans CJK JP",Meiryo,system-ui,sans-serif;line-height:1.7;margin:0;padding:1.5rem 1rem 3rem;color:#1b1f24;background:#eef2f6}
.brand{max-width:36rem;margin:0 auto 1rem;display:flex;align-items:center;gap:.6rem;font-weight:700;color:#0f3a75;letter-spacing:.02em}
main{max-width:36rem;margin:0 auto;background:#fff;padding:1.75rem 2rem 2rem;border-radius:12px;border:1px solid #d9e0e8;box-shadow:0 2px 6px rgba(15,58,117,.08)}
h1{font-size:1.35rem;line-height:1.45;margin:.25rem 0 1rem;text-wrap:balance}
:lang(ja) :is(h1,h2,p,li,label,button,a){word-break:auto-phrase}h2{font-size:1rem;margin:1.25rem 0 .5rem}
.rp{display:flex;align-items:center;gap:.85rem;padding:.75rem 1rem;margin:0 0 1.25rem;background:#f4f7fb;border:1px solid #e1e7ef;border-radius:10px}
.rp-logo{width:48px;height:48px;max-width:48px;max-height:48px;object-fit:contain;border-radius:8px;background:#fff;flex:none}
.rp-label{display:block;font-size:.8rem;color:#58626e}.rp-name{font-size:1.1rem;word-break:break-word}
.rp-links{margin:1.5rem 0 0;font-size:.85rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}
#status{font-weight:600;padding:.75rem .9rem;background:#f4f7fb;border-left:4px solid #1a4b8c;border-radius:4px}
#hint{margin:1rem 0 0;padding:.75rem .9rem;font-size:1rem;color:#1b1f24;background:#fff8e5;border:1px solid #ecd796;border-left:4px solid #c99700;border-radius:4px}
.error{color:#a4000f}.error:empty{display:none}.hint{color:#58626e;font-size:.9rem}
.guide{margin:.5rem 0 1rem;padding-left:1.25rem}.guide li{margin:.35rem 0}
.scopes{padding-left:1.25rem}.scopes li{margin:.4rem 0}
.purpose{padding:.65rem .9rem;background:#f4f7fb;border-radius:6px}
.claims{border:1px solid #d9e0e8;border-radius:10px;padding:.5rem 1rem .75rem;margin:1rem 0 0}.claims legend{font-weight:700;padding:0 .35rem}
.claims ul{list-style:none;padding:0;margin:0}.claim{display:flex;gap:.7rem;align-items:flex-start;padding:.6rem 0;border-bottom:1px solid #eef1f4}.claim:last-child{border-bottom:none}
.claim input{width:1.3rem;height:1.3rem;margin:.3rem 0 0;flex:none;accent-color:#1a4b8c}.claim label{flex:1}
.claim-label{font-size:.85rem;color:#58626e}.claim-value{display:block;font-weight:700;font-size:1.05rem;word-break:break-word}.claim-note{display:block}
.tag{display:inline-block;font-size:.75rem;line-height:1.5;padding:0 .45rem;border-radius:4px;background:#e8eef6;color:#0f3a75;margin-left:.4rem;font-weight:600}.tag.required{background:#fdeaea;color:#a4000f}
a{color:#1a4b8c}
button,a.button{display:inline-block;font:inherit;font-size:1rem;line-height:1.4;padding:.65rem 1.4rem;border-radius:8px;border:1px solid #1a4b8c;background:#fff;color:#1a4b8c;cursor:pointer;text-decoration:none}
button.primary,a.button{background:#1a4b8c;color:#fff}button.primary:hover,a.button:hover{background:#143c71}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}.actions form{margin:0}
#start,#retry{margin-top:1rem}#start{font-weight:700}
.cancel{margin:1.75rem 0 0;padding-top:1rem;border-top:1px solid #e5e9ee}
.link-button{border:none;background:none;padding:0;color:#1a4b8c;text-decoration:underline;font-size:.95rem}
:focus-visible{outline:3px solid #f2c14e;outline-offset:2px}
@media (max-width:30rem){body{padding:1rem .75rem 2rem}main{padding:1.25rem 1.1rem 1.5rem}.rp{padding:.65rem .8rem}}
`;

/** Where the style sheet is served (content-hashed). */
export const STYLE_PATH = hashedAssetPath('myna', 'css', STYLE_SHEET);

/**
 * The CSP of the OP's HTML pages (and, with the SHA-256 of its auto-submit script added by
 * oidc-provider, of its form_post page): scripts and styles only from the OP itself (no inline code),
 * images from the OP and from the one origin of the relying party's logo (`imageOrigin`), network
 * access only to the OP and the reader-helper on ws://127.0.0.1:`helperPort` (CSP host sources
 * cannot name an IPv6 literal, and the page only uses the IPv4 one).
 */
export function pageCsp(helperPort: number, imageOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    imageOrigin ? `img-src 'self' ${imageOrigin}` : "img-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${helperPort}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
