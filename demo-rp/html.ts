/** HTML for the demo relying party: escaped, no inline script, one small stylesheet. */

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
button,a.button{font-size:1.1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #124;background:#1a4b8c;color:#fff;text-decoration:none;cursor:pointer}
pre{background:#f4f4f4;padding:1rem;overflow:auto}`;

/** A complete page. `body` must already be escaped HTML. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** The signed-out home page with the sign-in button. */
export function signedOutPage(message?: string): string {
  return page(
    'Demo RP — Sign in with MyNumber card',
    `<h1>Demo relying party</h1>
<p>This app uses the local OpenID provider. Sign in with the (virtual) MyNumber card.</p>
${message ? `<p role="status">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login"><button type="submit">Sign in with MyNumber card</button></form>`,
  );
}

/** The signed-in page: ID token claims, userinfo and a logout button. */
export function signedInPage(claims: object, userinfo: object): string {
  return page(
    'Demo RP — signed in',
    `<h1>Signed in</h1>
<h2>ID token claims</h2><pre id="claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre>
<h2>Userinfo</h2><pre id="userinfo">${escapeHtml(JSON.stringify(userinfo, null, 2))}</pre>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`,
  );
}
