/**
 * The account pages' style sheet and where it is served: apart from the pages (pages.ts) because
 * the account routes answer it without loading them — the pages and their texts are loaded on the
 * first account page (routes.ts), not by every cold start.
 */
import { hashedAssetPath } from '../login-page/assets.js';

/** The account pages' own additions to the pages' style sheet (served, never inline). */
export const ACCOUNT_STYLE_SHEET = `.services,.certificates{list-style:none;padding:0;margin:0}
.service{border:1px solid #d9e0e8;border-radius:10px;padding:1rem 1.1rem;margin:0 0 1rem}
.service h3{font-size:1.1rem;margin:0;word-break:break-word}
.service .rp{margin:0 0 .75rem}
.facts{display:grid;grid-template-columns:minmax(8rem,auto) 1fr;gap:.35rem 1rem;margin:0 0 .75rem}
.facts dt{color:#58626e;font-size:.9rem}.facts dd{margin:0;word-break:break-word}
.facts ul{margin:0;padding-left:1.1rem}
.fingerprint{font-family:ui-monospace,"Noto Sans Mono",monospace;font-size:1.05rem;font-weight:700;letter-spacing:.05em}
.certificates li{padding:.6rem 0;border-bottom:1px solid #eef1f4}.certificates li:last-child{border-bottom:none}
.done{padding:.75rem .9rem;background:#eaf6ec;border-left:4px solid #2e7d32;border-radius:4px;font-weight:600}
.account-actions{display:grid;gap:1rem}.account-actions p,.account-actions form{margin:0}.account-actions .hint,.fingerprint+.hint{display:block;margin-top:.3rem}
button.danger,a.button.danger{background:#fff;border-color:#a4000f;color:#a4000f}
button.danger.primary{background:#a4000f;color:#fff}button.danger.primary:hover{background:#7f000c}
.confirm{display:flex;gap:.7rem;align-items:flex-start;margin:1rem 0}.confirm input{width:1.3rem;height:1.3rem;margin:.3rem 0 0;flex:none;accent-color:#a4000f}
code{font-size:.9em;background:#f4f7fb;padding:0 .25rem;border-radius:3px}
@media (max-width:30rem){.facts{grid-template-columns:1fr}.facts dd{margin-bottom:.4rem}}
`;

/** Where the account style sheet is served (content-hashed, cached immutable like the others). */
export const ACCOUNT_STYLE_PATH = hashedAssetPath('myna-account', 'css', ACCOUNT_STYLE_SHEET);
