/**
 * Every text the helper's PIN windows show, in Japanese and English, in one place. Texts are
 * plain strings; each dialog program gets them in a way that shows them literally (no markup, no
 * shell, no script interpolation). Button labels mark their access key with `&` (as Qt and
 * WinForms do); each dialog program turns that into its own mnemonic syntax.
 */
import { SIGNING_PIN, USER_AUTH_PIN } from '../../protocol/jpki-profile.js';
import type { PinRequest, PinSecret } from './pin-entry.js';

export type PinEntryLanguage = 'ja' | 'en';

/** What one window shows: its title, its text and its buttons (`cancel` always; `ok` when it has two). */
export interface DialogTexts {
  readonly title: string;
  readonly text: string;
  /** The accepting button; undefined for a notice (its only button is `cancel`). */
  readonly ok: string | undefined;
  readonly cancel: string;
}

/**
 * Title of the PIN window (tests find the window by it). Every title starts with the name the OP's
 * login page gives the helper ("card helper" / 「カード読み取りアプリ」), so the window is the one
 * the page tells people to look for.
 */
export function pinDialogTitle(language: PinEntryLanguage): string {
  return language === 'ja'
    ? 'カード読み取りアプリ：マイナンバーカードの暗証番号'
    : 'Card helper: MyNumber card PIN';
}

/** Title of the window that asks before the last PIN try (tests find the window by it). */
export function lastTryDialogTitle(language: PinEntryLanguage): string {
  return language === 'ja' ? 'カード読み取りアプリ：暗証番号の最後の入力' : 'Card helper: last PIN try';
}

/** Title of the notice shown while a PIN-pad reader waits for the PIN on its keypad. */
export function pinPadNoticeTitle(language: PinEntryLanguage): string {
  return language === 'ja'
    ? 'カード読み取りアプリ：リーダーで暗証番号を入力'
    : 'Card helper: PIN on the reader';
}

/** The access key (mnemonic) of the last-try window's "Continue" button: Alt+C. */
export const LAST_TRY_ACCEPT_ACCESS_KEY = 'c';

/** The card's format rule for each secret (protocol/jpki-profile.ts). */
export function pinRule(secret: PinSecret): RegExp {
  return secret === 'user-auth-pin' ? USER_AUTH_PIN.pattern : SIGNING_PIN.pattern;
}

const SECRET_NAME: Record<PinSecret, Record<PinEntryLanguage, string>> = {
  'user-auth-pin': {
    ja: '利用者証明用電子証明書の暗証番号（数字4桁）',
    en: 'the 4-digit PIN of the user-authentication certificate',
  },
  'signing-password': {
    ja: '署名用電子証明書のパスワード（英大文字と数字 6〜16文字）',
    en: 'the signing-certificate password (6 to 16 uppercase letters and digits)',
  },
};

const FORMAT_ERROR: Record<PinSecret, Record<PinEntryLanguage, string>> = {
  'user-auth-pin': {
    ja: '暗証番号は数字（0〜9）4桁です。カードには送っていません（残り回数は減っていません）。',
    en: 'The PIN is 4 digits (0–9). It was not sent to the card, so no try was used.',
  },
  'signing-password': {
    ja: 'パスワードは英大文字（A〜Z）と数字（0〜9）の6〜16文字です。カードには送っていません（残り回数は減っていません）。',
    en: 'The password is 6 to 16 characters, uppercase letters (A–Z) and digits (0–9). It was not sent to the card, so no try was used.',
  },
};

/** What an identity verification hands the site's sign-in service (the signing certificate's basic facts). */
const IDENTITY_READS: Record<PinEntryLanguage, string> = {
  ja: '署名用電子証明書には氏名・住所・生年月日・性別が記録されています。このサイトのサインインサービスがそれを読み取ります（サイトに渡す項目は次の画面で確認できます）。',
  en: 'Your signing certificate holds your name, address, date of birth and gender; the sign-in service of this site will read them (you choose what goes to the site on its next page).',
};

/** Which site asks, and for an identity verification what it will read. */
function siteLines(request: PinRequest): string[] {
  const { language, purpose, origin } = request;
  if (purpose === 'sign-in')
    return [language === 'ja' ? `サインイン先: ${origin}` : `Signing in at: ${origin}`];
  const site = language === 'ja' ? `本人確認の依頼元: ${origin}` : `Identity verification for: ${origin}`;
  return [site, IDENTITY_READS[language]];
}

function triesLine(request: PinRequest): string {
  return request.language === 'ja'
    ? `残り回数: ${request.triesLeft}回（0になるとロックされます）`
    : `Tries left: ${request.triesLeft} (at 0 the card locks it)`;
}

const CANCEL: Record<PinEntryLanguage, string> = { ja: 'キャンセル', en: 'Cancel' };

/** The PIN window; `formatError` after a badly formatted entry (the window is shown again). */
export function pinWindowTexts(request: PinRequest, formatError: boolean): DialogTexts {
  const { language, secret } = request;
  const ask =
    language === 'ja'
      ? `${SECRET_NAME[secret].ja}を入力してください。`
      : `Enter ${SECRET_NAME[secret].en} of your MyNumber card.`;
  const lines = [...siteLines(request), '', ask, triesLine(request)];
  if (formatError) lines.unshift(FORMAT_ERROR[secret][language], '');
  return { title: pinDialogTitle(language), text: lines.join('\n'), ok: 'OK', cancel: CANCEL[language] };
}

const LAST_TRY_WARNING: Record<PinEntryLanguage, string> = {
  ja: '残り1回です。次に間違えると電子証明書がロックされ、解除はお住まいの市区町村の窓口でしかできません。',
  en: 'This is the last try. One more wrong entry locks the certificate, and only your municipal office can unlock it.',
};

/** The confirmation before the last try (its default button is Cancel). */
export function lastTryWindowTexts(request: PinRequest): DialogTexts {
  const { language } = request;
  const text =
    language === 'ja'
      ? [
          LAST_TRY_WARNING.ja,
          '',
          ...siteLines(request),
          '',
          `${request.secret === 'signing-password' ? 'パスワード' : '暗証番号'}が確かなときだけ「続ける」を押してください。`,
        ]
      : [LAST_TRY_WARNING.en, '', ...siteLines(request), '', 'Press "Continue" only if you are sure of it.'];
  return {
    title: lastTryDialogTitle(language),
    text: text.join('\n'),
    ok: language === 'ja' ? '続ける(&C)' : '&Continue',
    cancel: CANCEL[language],
  };
}

const PIN_PAD_ASK: Record<PinEntryLanguage, string> = {
  ja: 'カードリーダーのキーパッドで暗証番号を入力してください（このパソコンには入力しません）。',
  en: "Enter your PIN on the card reader's keypad (not on this computer).",
};
/** After a cancel: the reader's wait cannot be ended from this computer. */
const PIN_PAD_CANCEL_ON_READER: Record<PinEntryLanguage, string> = {
  ja: 'サインインは取り消されましたが、カードリーダーはまだ暗証番号を待っています。カードリーダーのキーパッドの取消（Cancel）キーを押してください。',
  en: "The sign-in was cancelled, but the card reader is still waiting for the PIN. Press Cancel on the reader's keypad.",
};

/**
 * The notice while a PIN-pad reader waits for its keypad; its only button cancels. `cancelling`:
 * the sign-in was cancelled while the keypad still waits — the notice asks for the keypad's Cancel key.
 */
export function pinPadNoticeTexts(request: PinRequest, cancelling = false): DialogTexts {
  const { language } = request;
  const ask = cancelling ? PIN_PAD_CANCEL_ON_READER[language] : PIN_PAD_ASK[language];
  const lines = [ask, '', ...siteLines(request), triesLine(request)];
  if (request.triesLeft === 1 && !cancelling) lines.unshift(LAST_TRY_WARNING[language], '');
  return {
    title: pinPadNoticeTitle(language),
    text: lines.join('\n'),
    ok: undefined,
    cancel: CANCEL[language],
  };
}

/** Why no window can be shown, in words that say what to do. */
export const UNAVAILABLE = {
  noDisplay:
    'No desktop session: neither DISPLAY nor WAYLAND_DISPLAY is set, in the helper’s environment or in your user manager’s (`systemctl --user show-environment`), so the card helper (myna-helper) cannot show its PIN window; it looks again at each sign-in. ' +
    'Sign in to your desktop on this computer; the card helper must run as your user (`myna-helper install` starts it with your user manager), not over ssh or as a system service. ' +
    'If your desktop does not tell the user manager about itself, run `systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY` in it once per login.',
  noLinuxProgram:
    'No dialog program for the PIN window: install zenity (Debian/Ubuntu: `sudo apt install zenity`), kdialog or yad.',
  unsupportedPlatform: (platform: string): string =>
    `The card helper (myna-helper) has no PIN window for the platform "${platform}".`,
} as const;
