/**
 * The pages of the navigation path, in Japanese and English, in the status page's look (no
 * script): the waiting page while the person enters the PIN (or, for an identity verification,
 * the signing password) in the helper's window (it names the site the signature is for and what
 * it is for, and refreshes itself to the next long poll), and the pages that say
 * why the helper did nothing — a return address it does not answer to, a request that is not a
 * top-level navigation, an incomplete request, a sign-in that is over.
 */
import {
  AUTHENTICATE_CANCEL_PATH,
  AUTHENTICATE_WAIT_PATH,
  type CardOperationPurpose,
  type HelperLanguage,
  type ProgressStep,
} from '../../protocol/helper-protocol.js';
import { escapeHtml, helperPage } from './helper-page.js';

/** What a navigation-path page says. */
export type NavigationPage =
  | {
      /** The card operation runs: the person is told where to enter the PIN. */
      readonly kind: 'waiting';
      readonly origin: string;
      /** A sign-in, or an identity verification with the signing certificate. */
      readonly purpose: CardOperationPurpose;
      /** Where the operation is (undefined: the card is being read). */
      readonly step: ProgressStep | undefined;
      readonly operationId: string;
    }
  | {
      /** The return address is not one the helper answers to: nothing was signed, no redirect. */
      readonly kind: 'refused';
      readonly reason: 'RETURN_ORIGIN_REFUSED' | 'RETURN_INVALID';
      /** The return address's site, when it had one. */
      readonly site: string | undefined;
      readonly statusPageUrl: string;
    }
  | { readonly kind: 'not-navigation' }
  | { readonly kind: 'host-refused'; readonly port: number }
  | {
      /** A good return address but a bad nonce: a link back, no answer. */
      readonly kind: 'incomplete';
      readonly origin: string;
      readonly returnUrl: string;
    }
  | { readonly kind: 'gone'; readonly statusPageUrl: string };

const TEXT = {
  en: {
    title: 'Sign in with your MyNumber card',
    step: {
      reading: 'Reading your card…',
      'pin-entry': 'Enter your PIN in the window of the card helper (myna-helper).',
      'pin-pad': 'Enter your PIN on the card reader’s keypad.',
      signing: 'Signing with your card…',
    } satisfies Record<ProgressStep | 'reading', string>,
    signingInAt: 'Signing in at',
    identity: {
      title: 'Verify your identity with your MyNumber card',
      step: {
        reading: 'Reading your card…',
        'pin-entry':
          'Enter the password of your signing certificate (6 to 16 uppercase letters and digits) in the window of the card helper (myna-helper).',
        'pin-pad': 'Enter the password of your signing certificate on the card reader’s keypad.',
        signing: 'Reading your signing certificate and signing with your card…',
      } satisfies Record<ProgressStep | 'reading', string>,
      verifyingFor: 'Identity verification for',
      reads:
        'The site’s sign-in service reads your name, address, date of birth and gender from your signing certificate; it asks you before anything goes to the site.',
    },
    sameSite:
      'The card helper’s window names the same site. If you did not start signing in there, press Cancel in that window.',
    notOnPage: 'Never type your PIN into a web page.',
    cancel: 'Cancel and go back',
    nothingSigned: 'Nothing was signed',
    refused: {
      RETURN_ORIGIN_REFUSED: (site: string) =>
        `${site} is not set up to use your card with the card helper (myna-helper). If you did not start signing in there yourself, close this page. If it is a site you use, add it to the card helper (see its status page).`,
      RETURN_INVALID:
        'The page that sent you here asked the card helper to answer to an address that is not a sign-in page. The card helper answers only to a site’s own sign-in page. Close this page, go back to the site and start signing in again.',
    },
    statusPage: 'Card helper status',
    notNavigation:
      'This page works only when a site’s sign-in button opens it in the browser window, not inside another page.',
    hostRefused: (port: number) =>
      `Open the card helper as http://127.0.0.1:${port}/ — it does not answer under other names.`,
    incomplete: 'The sign-in request was incomplete: nothing was signed.',
    backTo: (origin: string) => `Back to ${origin}`,
    gone: 'This sign-in is over: its answer was delivered, it was cancelled, or it was not collected in time. Go back to the site and start signing in again.',
  },
  ja: {
    title: 'マイナンバーカードでサインイン',
    step: {
      reading: 'カードを読み取っています…',
      'pin-entry': 'カード読み取りアプリ（myna-helper）の画面に暗証番号を入力してください。',
      'pin-pad': 'カードリーダーのキーパッドで暗証番号を入力してください。',
      signing: 'カードで署名しています…',
    } satisfies Record<ProgressStep | 'reading', string>,
    signingInAt: 'サインイン先',
    identity: {
      title: 'マイナンバーカードで本人確認',
      step: {
        reading: 'カードを読み取っています…',
        'pin-entry':
          'カード読み取りアプリ（myna-helper）の画面に署名用電子証明書のパスワード（英大文字と数字 6〜16文字）を入力してください。',
        'pin-pad': 'カードリーダーのキーパッドで署名用電子証明書のパスワードを入力してください。',
        signing: '署名用電子証明書を読み取り、カードで署名しています…',
      } satisfies Record<ProgressStep | 'reading', string>,
      verifyingFor: '本人確認の依頼元',
      reads:
        'サイトのサインインサービスが署名用電子証明書から氏名・住所・生年月日・性別を読み取ります。サイトに渡す前に確認の画面が出ます。',
    },
    sameSite:
      'カード読み取りアプリの画面にも同じサイトが表示されます。このサイトでサインインを始めていない場合は、その画面で「キャンセル」を押してください。',
    notOnPage: 'ウェブページには暗証番号を入力しないでください。',
    cancel: 'キャンセルして戻る',
    nothingSigned: '署名していません',
    refused: {
      RETURN_ORIGIN_REFUSED: (site: string) =>
        `${site} は、カード読み取りアプリ（myna-helper）でカードを使えるサイトとして設定されていません。ご自身でこのサイトのサインインを始めていない場合は、このページを閉じてください。利用するサイトであれば、カード読み取りアプリに追加してください（アプリの状態ページを参照）。`,
      RETURN_INVALID:
        'このページへ移動させたページが、サインインページではない戻り先を指定しました。カード読み取りアプリはサイト自身のサインインページにだけ結果を返します。このページを閉じ、サイトに戻ってサインインをやり直してください。',
    },
    statusPage: 'カード読み取りアプリの状態',
    notNavigation:
      'このページは、サイトのサインインボタンからブラウザーの画面として開いたときだけ使えます（他のページの中では使えません）。',
    hostRefused: (port: number) =>
      `カード読み取りアプリは http://127.0.0.1:${port}/ として開いてください。ほかの名前では応答しません。`,
    incomplete: 'サインインの要求が不完全でした。署名していません。',
    backTo: (origin: string) => `${origin} に戻る`,
    gone: 'このサインインは終了しています（結果を返した、キャンセルした、または時間内に受け取られなかった）。サイトに戻ってサインインをやり直してください。',
  },
} as const;

/** The page's HTML. */
export function renderNavigationPage(page: NavigationPage, lang: HelperLanguage): string {
  const t = TEXT[lang];
  const frame = (body: string, head?: string, title: string = t.title) =>
    helperPage({ lang, title, body: `<h1>${title}</h1>\n${body}`, ...(head ? { head } : {}) });
  switch (page.kind) {
    case 'waiting': {
      const op = encodeURIComponent(page.operationId);
      const wait = `${AUTHENTICATE_WAIT_PATH}?op=${op}&amp;lang=${lang}`;
      const identity = page.purpose === 'verify-identity';
      const step = (identity ? t.identity.step : t.step)[page.step ?? 'reading'];
      const reads = identity ? `\n<p id="reads">${t.identity.reads}</p>` : '';
      const body = `<p id="state" class="ok">${step}</p>
<p>${identity ? t.identity.verifyingFor : t.signingInAt}</p><p id="site" class="site">${escapeHtml(page.origin)}</p>${reads}
<p>${t.sameSite}</p><p class="warn">${t.notOnPage}</p>
<p><a id="cancel" href="${AUTHENTICATE_CANCEL_PATH}?op=${op}&amp;lang=${lang}">${t.cancel}</a></p>`;
      const head = `<meta http-equiv="refresh" content="0;url=${wait}">\n`;
      return frame(body, head, identity ? t.identity.title : t.title);
    }
    case 'refused': {
      const text =
        page.reason === 'RETURN_ORIGIN_REFUSED'
          ? t.refused.RETURN_ORIGIN_REFUSED(`<code>${escapeHtml(page.site ?? '')}</code>`)
          : t.refused.RETURN_INVALID;
      return frame(
        `<p id="state" class="warn">${t.nothingSigned}</p>
<p id="reason">${text}</p>
<p><a href="${escapeHtml(page.statusPageUrl)}?lang=${lang}">${t.statusPage}</a></p>`,
      );
    }
    case 'not-navigation':
      return frame(
        `<p id="state" class="warn">${t.nothingSigned}</p>\n<p id="reason">${t.notNavigation}</p>`,
      );
    case 'host-refused':
      return frame(
        `<p id="state" class="warn">${t.nothingSigned}</p>\n<p id="reason">${t.hostRefused(page.port)}</p>`,
      );
    case 'incomplete':
      return frame(
        `<p id="state" class="warn">${t.incomplete}</p>
<p><a id="back" href="${escapeHtml(page.returnUrl)}">${escapeHtml(t.backTo(page.origin))}</a></p>`,
      );
    case 'gone':
      return frame(
        `<p id="state" class="warn">${t.gone}</p>
<p><a href="${escapeHtml(page.statusPageUrl)}?lang=${lang}">${t.statusPage}</a></p>`,
      );
  }
}
