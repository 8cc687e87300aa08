/**
 * The helper's local status page for people, at http://127.0.0.1:<port>/ (Japanese or English):
 * that it runs, its version, the readers and whether a MyNumber card is in one, where the PIN is
 * entered (the helper's own window), the sites it is set up for (plain-http ones with a visible warning), how to add one, and the recent refusals (per
 * site: count, last time and reason; nothing else). Only a top-level navigation may load it: no
 * CORS header, `frame-ancestors 'none'` + X-Frame-Options DENY, a cross-origin resource policy,
 * and the request checks in upgrade-guard.ts.
 */
import type { CardState, HelperLanguage, ReaderInfo } from '../../protocol/helper-protocol.js';
import { escapeHtml, helperPage } from './helper-page.js';
import type { Refusal } from './refusals.js';
import type { RefusalReason } from './upgrade-guard.js';

/** What the page shows. */
export interface StatusPageModel {
  readonly helperVersion: string;
  readonly protocolVersion: number;
  /** Undefined when the PC/SC service did not answer in time. */
  readonly readers: readonly ReaderInfo[] | undefined;
  readonly busy: boolean;
  /** The helper's PIN window (`PinEntry.kind`). */
  readonly pinEntry: string;
  /** What the origin policy allows, as `OriginPolicy.describe()` words it. */
  readonly allowedSites: readonly string[];
  readonly refusals: readonly Refusal[];
}

const TEXT = {
  en: {
    title: 'Card helper (myna-helper)',
    running: 'The card helper is running.',
    version: (helper: string, protocol: number) => `Version ${helper} (protocol ${protocol})`,
    busy: 'A card operation is in progress.',
    readers: 'Card readers',
    noReaders: 'No card reader is connected. Connect one (USB or NFC), then reload this page.',
    readersSilent:
      'The smart-card service does not answer (Linux: is pcscd running? systemctl status pcscd). Reload this page in a moment.',
    card: {
      absent: 'no card',
      jpki: 'MyNumber card present',
      'not-jpki': 'a card that is not a MyNumber card',
      unknown: 'card state unknown',
    } satisfies Record<CardState, string>,
    pinWindow: 'Where you enter your PIN',
    pinWindowKind: (kind: string) =>
      `Only in the card helper’s own window (${kind}), which names the site that asks. Never type your PIN into a web page.`,
    sites: 'Sites that may use the card',
    noSites: 'No site is set up yet: the card helper refuses every sign-in page.',
    howToAdd: 'How to add a site',
    addSteps: [
      'Ask the site for the address of its sign-in page, for example <code>https://login.example.jp</code>.',
      'Add it to <code>allowedOrigins</code> in the card helper’s configuration file (Linux: <code>~/.config/myna-helper/config.json</code>, macOS: <code>~/Library/Application Support/myna-helper/config.json</code>, Windows: <code>%APPDATA%\\myna-helper\\config.json</code>), for example <code>{"allowedOrigins": ["https://login.example.jp"]}</code>.',
      'Restart the card helper: on Linux run <code>systemctl --user restart myna-helper.service</code>; on macOS or Windows log out and in again.',
    ],
    insecureSite:
      'Warning: plain http, for development only. Any program on this computer can serve this address and use your card; remove it from config.json unless you are developing that site.',
    refusals: 'Recently refused',
    noRefusals: 'No site has been refused since the card helper started.',
    refusalHead: ['Last time (UTC)', 'Site', 'Times', 'Why'],
    reason: {
      HOST_REFUSED: 'connected by a name other than 127.0.0.1 or [::1] (the page must use ws://127.0.0.1)',
      ORIGIN_MISSING: 'not a web page (no origin)',
      ORIGIN_REFUSED: 'not set up',
      ORIGIN_PRESENT: 'a web page asked for the status',
      NOT_NAVIGATION: 'not opened from the address bar, or inside another page',
      RETURN_ORIGIN_REFUSED: 'not set up (sent you to the card helper to sign in)',
      RETURN_INVALID:
        'sent you to the card helper with a return address that is not a sign-in page (nothing was signed)',
    } satisfies Record<RefusalReason, string>,
    alreadyAllowed: 'already set up: nothing to add; tell the site its sign-in page connects wrongly.',
    refusalNote:
      'A site you did not open yourself here may be trying to use your card: do not add it. A site you use that is “not set up” should be added as above.',
    other: '日本語',
  },
  ja: {
    title: 'カード読み取りアプリ（myna-helper）',
    running: 'カード読み取りアプリは動作しています。',
    version: (helper: string, protocol: number) => `バージョン ${helper}（プロトコル ${protocol}）`,
    busy: 'カードの操作中です。',
    readers: 'カードリーダー',
    noReaders:
      'カードリーダーが接続されていません。リーダー（USB または NFC）を接続してから、このページを再読み込みしてください。',
    readersSilent:
      'スマートカードのサービスが応答しません（Linux の場合：pcscd が動作しているか systemctl status pcscd で確認してください）。しばらくしてからこのページを再読み込みしてください。',
    card: {
      absent: 'カードなし',
      jpki: 'マイナンバーカードあり',
      'not-jpki': 'マイナンバーカードではないカード',
      unknown: 'カードの状態が不明',
    } satisfies Record<CardState, string>,
    pinWindow: '暗証番号の入力場所',
    pinWindowKind: (kind: string) =>
      `カード読み取りアプリ自身の画面（${kind}）だけです。画面には要求しているサイトが表示されます。ウェブページには暗証番号を入力しないでください。`,
    sites: 'カードを使えるサイト',
    noSites: 'まだサイトが設定されていません。すべてのサインインページを拒否します。',
    howToAdd: 'サイトの追加方法',
    addSteps: [
      'サイトにサインインページのアドレスを確認します（例：<code>https://login.example.jp</code>）。',
      'カード読み取りアプリの設定ファイル（Linux：<code>~/.config/myna-helper/config.json</code>、macOS：<code>~/Library/Application Support/myna-helper/config.json</code>、Windows：<code>%APPDATA%\\myna-helper\\config.json</code>）の <code>allowedOrigins</code> に追加します（例：<code>{"allowedOrigins": ["https://login.example.jp"]}</code>）。',
      'カード読み取りアプリを再起動します。Linux：<code>systemctl --user restart myna-helper.service</code> を実行。macOS・Windows：いったんログアウトして再ログイン。',
    ],
    insecureSite:
      '警告：暗号化されていない http（開発用のみ）です。このパソコンのどのプログラムでもこのアドレスを名乗ってカードを使えます。そのサイトを開発していないなら config.json から削除してください。',
    refusals: '最近拒否したサイト',
    noRefusals: 'カード読み取りアプリの起動後、拒否したサイトはありません。',
    refusalHead: ['最終時刻（UTC）', 'サイト', '回数', '理由'],
    reason: {
      HOST_REFUSED: '127.0.0.1 または [::1] 以外の名前で接続（ページは ws://127.0.0.1 を使う必要があります）',
      ORIGIN_MISSING: 'ウェブページではない（オリジンなし）',
      ORIGIN_REFUSED: '未設定',
      ORIGIN_PRESENT: 'ウェブページが状態を要求',
      NOT_NAVIGATION: 'アドレスバーから開かれていない、または他のページの中に埋め込まれている',
      RETURN_ORIGIN_REFUSED: '未設定（サインインのためにカード読み取りアプリへ移動させた）',
      RETURN_INVALID:
        'サインインページではない戻り先を指定してカード読み取りアプリへ移動させた（署名していません）',
    } satisfies Record<RefusalReason, string>,
    alreadyAllowed:
      '設定済みです。追加は不要です。サインインページの接続方法が誤っていることをサイトに伝えてください。',
    refusalNote:
      'ご自身で開いていないサイトは、カードを不正に使おうとしている可能性があります。追加しないでください。利用するサイトで「未設定」のものは上の手順で追加してください。',
    other: 'English',
  },
} as const;

/** The page's HTML. */
export function renderStatusPage(model: StatusPageModel, lang: HelperLanguage): string {
  const t = TEXT[lang];
  const other = lang === 'ja' ? 'en' : 'ja';
  const readers =
    model.readers === undefined
      ? `<p id="readers">${t.readersSilent}</p>`
      : model.readers.length === 0
        ? `<p id="readers">${t.noReaders}</p>`
        : `<ul id="readers">${model.readers
            .map((reader) => `<li>${escapeHtml(reader.name)}: <strong>${t.card[reader.card]}</strong></li>`)
            .join('')}</ul>`;
  const sites =
    model.allowedSites.length === 0
      ? `<p id="sites">${t.noSites}</p>`
      : `<ul id="sites">${model.allowedSites
          .map(
            (site) =>
              `<li><code>${escapeHtml(site)}</code>${site.startsWith('http://') ? ` <strong class="warn">${t.insecureSite}</strong>` : ''}</li>`,
          )
          .join('')}</ul>`;
  const pinWindow = t.pinWindowKind(escapeHtml(model.pinEntry));
  const allowed = new Set(model.allowedSites);
  const refusals =
    model.refusals.length === 0
      ? `<p id="refusals">${t.noRefusals}</p>`
      : `<table id="refusals"><tr>${t.refusalHead.map((head) => `<th>${head}</th>`).join('')}</tr>${model.refusals
          .map(
            (refusal) =>
              `<tr><td>${refusal.time.toISOString().slice(0, 19).replace('T', ' ')}</td><td><code>${escapeHtml(refusal.site)}</code></td><td>${refusal.count}</td><td>${t.reason[refusal.reason]}${allowed.has(refusal.site) ? ` — ${t.alreadyAllowed}` : ''}</td></tr>`,
          )
          .join('')}</table><p>${t.refusalNote}</p>`;
  return helperPage({
    lang,
    title: t.title,
    body: `<nav><a href="/?lang=${other}" hreflang="${other}">${t.other}</a></nav>
<h1>${t.title}</h1>
<p id="state" class="ok">${t.running}</p>
<p id="version">${t.version(escapeHtml(model.helperVersion), model.protocolVersion)}</p>
${model.busy ? `<p>${t.busy}</p>` : ''}
<h2>${t.readers}</h2>${readers}
<h2>${t.pinWindow}</h2><p id="pin-window">${pinWindow}</p>
<h2>${t.sites}</h2>${sites}
<h2>${t.howToAdd}</h2><ol id="how-to-add">${t.addSteps.map((step) => `<li>${step}</li>`).join('')}</ol>
<h2>${t.refusals}</h2>${refusals}`,
  });
}
