/** The fixed paths, the style sheet and the Content-Security-Policy of the OP's own pages. */

/** Where the login script is served. */
export const LOGIN_SCRIPT_PATH = '/assets/myna-login.js';
/** Where the style sheet is served. */
export const STYLE_PATH = '/assets/myna.css';

/** The pages' only style sheet (served, never inline). */
export const STYLE_SHEET = `body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;line-height:1.6;margin:0;padding:2rem 1rem;color:#1a1a1a;background:#f6f7f9}
main{max-width:34rem;margin:0 auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4rem}.client{font-weight:600}.error{color:#a4000f}.hint{color:#555;font-size:.9rem}
label{display:block;font-weight:600;margin-top:1rem}#last-try label{display:inline;font-weight:400}
input[type=password]{font-size:1.5rem;letter-spacing:.5rem;width:8rem;padding:.25rem .5rem}
button{font-size:1rem;padding:.5rem 1.25rem;margin:.75rem .5rem 0 0;cursor:pointer}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
`;

/**
 * The CSP of the OP's HTML pages: scripts and styles only from the OP itself (no inline code),
 * network access only to the OP and the reader-helper on ws://127.0.0.1:`helperPort` (CSP host
 * sources cannot name an IPv6 literal, and the page only uses the IPv4 one).
 */
export function pageCsp(helperPort: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${helperPort}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
