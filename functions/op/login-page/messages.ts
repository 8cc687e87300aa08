/**
 * Every text the login, consent and error pages show, in Japanese and English: the page states,
 * a plain-words message per verifier error code (functions/jpki/errors.ts), per login error code
 * (interactions/login-error.ts) and per helper error code (protocol/helper-protocol.ts).
 * Texts contain no personal data; they are escaped where they are rendered.
 */

import type { HelperErrorCode } from '../../../protocol/helper-protocol.js';
import type { VerificationErrorCode } from '../../jpki/errors.js';
import type { LoginErrorCode } from '../interactions/login-error.js';

export const LOCALES = ['ja', 'en'] as const;
/** A language the pages are written in. */
export type Locale = (typeof LOCALES)[number];

/** Texts of the page itself (titles, labels, states). `{n}` is replaced by a number. */
type UiKey =
  | 'title'
  | 'heading'
  | 'intro'
  | 'noscript'
  | 'stateLooking'
  | 'stateNoHelper'
  | 'stateNoHelperInstall'
  | 'stateInstallLink'
  | 'stateBlocked'
  | 'stateBlockedPrompt'
  | 'stateBlockedSafari'
  | 'stateNoReader'
  | 'stateNoCard'
  | 'stateNotJpki'
  | 'statePin'
  | 'stateSigning'
  | 'stateSending'
  | 'stateVerified'
  | 'pinLabel'
  | 'pinHint'
  | 'lastTryConfirm'
  | 'submit'
  | 'retry'
  | 'triesLeft'
  | 'errorCode'
  | 'consentTitle'
  | 'consentIntro'
  | 'consentScopes'
  | 'consentAllow'
  | 'consentDeny'
  | 'errorTitle'
  | 'errorIntro'
  | 'logoutTitle'
  | 'logoutQuestion'
  | 'logoutYes'
  | 'logoutNo'
  | 'logoutDone';

/** Every key a message can have. */
export type MessageKey = UiKey | VerificationErrorCode | LoginErrorCode | `HELPER_${HelperErrorCode}`;

const ja: Record<MessageKey, string> = {
  title: 'マイナンバーカードでサインイン',
  heading: 'マイナンバーカードでサインイン',
  intro:
    'カードリーダーにマイナンバーカードを置き、利用者証明用電子証明書の暗証番号（数字4桁）を入力してください。',
  noscript: 'このページを使うには JavaScript を有効にしてください。',
  stateLooking: 'カード読み取りアプリ（myna-helper）を探しています…',
  stateNoHelper: 'カード読み取りアプリ（myna-helper）が見つかりません。',
  stateNoHelperInstall:
    'このパソコンに myna-helper をインストールして起動してから「もう一度試す」を押してください。',
  stateInstallLink: 'インストール方法',
  stateBlocked: 'ブラウザーがこのパソコン内のカード読み取りアプリへの接続をブロックしました。',
  stateBlockedPrompt:
    'Chrome: アドレスバーの表示で「ローカル ネットワークへのアクセス」を許可してから「もう一度試す」を押してください。',
  stateBlockedSafari: 'Safari はこの接続を許可しません。Chrome、Edge または Firefox をお使いください。',
  stateNoReader: 'カードリーダーが見つかりません。リーダーを接続してください。',
  stateNoCard: 'カードリーダーにマイナンバーカードを置いてください。',
  stateNotJpki: 'リーダーのカードはマイナンバーカードではありません。',
  statePin: '暗証番号を入力してください。',
  stateSigning: 'カードで署名しています。カードを動かさないでください…',
  stateSending: '確認しています…',
  stateVerified: '確認できました。元のサイトに戻ります…',
  pinLabel: '利用者証明用電子証明書の暗証番号（数字4桁）',
  pinHint: '暗証番号は保存されず、このパソコンのカードにだけ送られます。',
  lastTryConfirm: '残り1回です。間違えるとロックされることを理解したうえで入力します',
  submit: 'サインイン',
  retry: 'もう一度試す',
  triesLeft: '残り {n} 回',
  errorCode: 'エラーコード',
  consentTitle: '情報の提供の確認',
  consentIntro: '次のサービスがあなたのサインインを利用しようとしています:',
  consentScopes: '提供される情報',
  consentAllow: '許可する',
  consentDeny: '許可しない',
  errorTitle: 'エラーが発生しました',
  errorIntro: '元のサイトに戻って、もう一度サインインしてください。',
  logoutTitle: 'サインアウト',
  logoutQuestion: 'このサービスからサインアウトしますか？',
  logoutYes: 'サインアウトする',
  logoutNo: 'サインインしたままにする',
  logoutDone: 'サインアウトしました。',
  CERTIFICATE_TOO_LARGE: '証明書が大きすぎます。マイナンバーカードの証明書ではありません。',
  CERTIFICATE_MALFORMED: '証明書を読み取れませんでした。',
  ALGORITHM_NOT_ALLOWED: '証明書の署名方式が受け付けられません。',
  KEY_NOT_ALLOWED: '証明書の鍵が受け付けられません。',
  ISSUER_UNTRUSTED: 'この証明書は信頼できる発行元（J-LIS 利用者証明用）から発行されていません。',
  ISSUER_NOT_VALID: '証明書の発行元の有効期間外です。',
  CERTIFICATE_NOT_YET_VALID: '証明書はまだ有効になっていません。パソコンの時計も確認してください。',
  CERTIFICATE_EXPIRED: '証明書の有効期限が切れています。市区町村の窓口で更新してください。',
  KEY_USAGE_INVALID: 'この証明書はサインインに使えません。',
  UNSUPPORTED_CRITICAL_EXTENSION: '証明書に処理できない重要な拡張があります。',
  NOT_USER_AUTH_CERTIFICATE: '利用者証明用の証明書ではありません（署名用の証明書ではサインインできません）。',
  SIGNATURE_MALFORMED: 'カードの署名の形式が正しくありません。',
  CHALLENGE_SIGNATURE_INVALID: '署名がこのサイトとこのサインインに対応していません。もう一度お試しください。',
  CHALLENGE_INPUT_INVALID: 'サインイン用のデータが正しくありません。ページを再読み込みしてください。',
  REVOKED: 'この証明書は失効しています。',
  REVOCATION_UNKNOWN: '証明書の失効状態を確認できませんでした。しばらくしてからお試しください。',
  ANSWER_MALFORMED: 'カードからの応答を読み取れませんでした。もう一度お試しください。',
  CHALLENGE_UNAVAILABLE:
    'サインインの有効時間（5分）が過ぎたか、すでに使われました。もう一度お試しください。',
  INTERACTION_MISMATCH: 'このページは別のサインインのものです。元のサイトからやり直してください。',
  INTERACTION_EXPIRED: 'サインインの有効時間が過ぎました。元のサイトからやり直してください。',
  CROSS_ORIGIN_REQUEST: '別のサイトからの送信は受け付けません。',
  HELPER_NO_READER: 'カードリーダーが見つかりません。リーダーを接続してください。',
  HELPER_NO_CARD: 'カードリーダーにカードがありません。マイナンバーカードを置いてください。',
  HELPER_NOT_JPKI: 'リーダーのカードはマイナンバーカードではありません。',
  HELPER_PIN_FORMAT: '暗証番号は数字4桁です。',
  HELPER_PIN_INCORRECT: '暗証番号が違います。',
  HELPER_PIN_BLOCKED: '暗証番号がロックされています。市区町村の窓口で暗証番号の初期化を申請してください。',
  HELPER_LAST_TRY: '残り1回です。続けるには確認のチェックを入れてください。',
  HELPER_CARD_REMOVED: 'カードが取り外されました。カードを置き直してください。',
  HELPER_CARD_ERROR: 'カードとの通信に失敗しました。カードを置き直してください。',
  HELPER_BUSY: '別の操作を実行中です。少し待ってからお試しください。',
  HELPER_TIMEOUT: '時間内に完了しませんでした。もう一度お試しください。',
  HELPER_CANCELLED: '操作は取り消されました。',
  HELPER_BAD_REQUEST: 'カード読み取りアプリとの通信に失敗しました。ページを再読み込みしてください。',
};

const en: Record<MessageKey, string> = {
  title: 'Sign in with your MyNumber card',
  heading: 'Sign in with your MyNumber card',
  intro:
    'Place your MyNumber card on the card reader and enter the PIN of its user-authentication certificate (4 digits).',
  noscript: 'This page needs JavaScript. Please turn it on.',
  stateLooking: 'Looking for the card helper (myna-helper) on this computer…',
  stateNoHelper: 'The card helper (myna-helper) is not running on this computer.',
  stateNoHelperInstall: 'Install and start myna-helper on this computer, then press "Try again".',
  stateInstallLink: 'How to install it',
  stateBlocked: 'Your browser blocked the connection to the card helper on this computer.',
  stateBlockedPrompt:
    'Chrome: allow "local network access" for this site (see the address bar), then press "Try again".',
  stateBlockedSafari: 'Safari does not allow this connection. Please use Chrome, Edge or Firefox.',
  stateNoReader: 'No card reader found. Please connect a reader.',
  stateNoCard: 'Please place your MyNumber card on the reader.',
  stateNotJpki: 'The card on the reader is not a MyNumber card.',
  statePin: 'Enter your PIN.',
  stateSigning: 'Your card is signing. Do not move the card…',
  stateSending: 'Checking…',
  stateVerified: 'Verified. Taking you back…',
  pinLabel: 'User-authentication PIN (4 digits)',
  pinHint: 'Your PIN is never stored; it only goes to the card on this computer.',
  lastTryConfirm: 'One try left: I understand a wrong PIN now locks the card',
  submit: 'Sign in',
  retry: 'Try again',
  triesLeft: '{n} tries left',
  errorCode: 'Error code',
  consentTitle: 'Allow access?',
  consentIntro: 'This service wants to use your sign-in:',
  consentScopes: 'It will receive',
  consentAllow: 'Allow',
  consentDeny: 'Do not allow',
  errorTitle: 'Something went wrong',
  errorIntro: 'Go back to the site you came from and sign in again.',
  logoutTitle: 'Sign out',
  logoutQuestion: 'Do you want to sign out?',
  logoutYes: 'Sign out',
  logoutNo: 'Stay signed in',
  logoutDone: 'You are signed out.',
  CERTIFICATE_TOO_LARGE: 'The certificate is too large to be a MyNumber card certificate.',
  CERTIFICATE_MALFORMED: 'The certificate could not be read.',
  ALGORITHM_NOT_ALLOWED: 'The certificate uses a signature algorithm that is not accepted.',
  KEY_NOT_ALLOWED: 'The certificate key is not accepted.',
  ISSUER_UNTRUSTED: 'The certificate was not issued by the trusted JPKI user-authentication authority.',
  ISSUER_NOT_VALID: 'The authority that issued the certificate is not valid at this time.',
  CERTIFICATE_NOT_YET_VALID: 'The certificate is not valid yet. Please also check the computer clock.',
  CERTIFICATE_EXPIRED: 'The certificate has expired. Renew it at your municipal office.',
  KEY_USAGE_INVALID: 'This certificate cannot be used to sign in.',
  UNSUPPORTED_CRITICAL_EXTENSION: 'The certificate has a critical extension this service cannot process.',
  NOT_USER_AUTH_CERTIFICATE:
    'This is not a user-authentication certificate (a signing certificate cannot sign in).',
  SIGNATURE_MALFORMED: "The card's signature has the wrong format.",
  CHALLENGE_SIGNATURE_INVALID: 'The signature does not match this site and this sign-in. Please try again.',
  CHALLENGE_INPUT_INVALID: 'The sign-in data is not valid. Please reload the page.',
  REVOKED: 'This certificate has been revoked.',
  REVOCATION_UNKNOWN: 'The revocation status of the certificate could not be checked. Please try later.',
  ANSWER_MALFORMED: "The card's answer could not be read. Please try again.",
  CHALLENGE_UNAVAILABLE: 'This sign-in expired (5 minutes) or was already used. Please try again.',
  INTERACTION_MISMATCH: 'This page belongs to another sign-in. Start again from the site you came from.',
  INTERACTION_EXPIRED: 'This sign-in has expired. Start again from the site you came from.',
  CROSS_ORIGIN_REQUEST: 'Requests from other sites are not accepted.',
  HELPER_NO_READER: 'No card reader found. Please connect a reader.',
  HELPER_NO_CARD: 'There is no card on the reader. Please place your MyNumber card on it.',
  HELPER_NOT_JPKI: 'The card on the reader is not a MyNumber card.',
  HELPER_PIN_FORMAT: 'The PIN is 4 digits.',
  HELPER_PIN_INCORRECT: 'Wrong PIN.',
  HELPER_PIN_BLOCKED: 'The PIN is locked. Ask your municipal office to reset it.',
  HELPER_LAST_TRY: 'One try left. Tick the confirmation to continue.',
  HELPER_CARD_REMOVED: 'The card was removed. Please place it on the reader again.',
  HELPER_CARD_ERROR: 'The card did not answer correctly. Please place it on the reader again.',
  HELPER_BUSY: 'Another card operation is running. Please wait a moment and try again.',
  HELPER_TIMEOUT: 'The card operation took too long. Please try again.',
  HELPER_CANCELLED: 'The card operation was cancelled.',
  HELPER_BAD_REQUEST: 'Talking to the card helper failed. Please reload the page.',
};

const MESSAGES: Record<Locale, Record<MessageKey, string>> = { ja, en };

/** The text of `key` in `locale`. */
export function message(locale: Locale, key: MessageKey): string {
  return MESSAGES[locale][key];
}

/** All texts of `locale` (the login page hands them to its script). */
export function messagesOf(locale: Locale): Readonly<Record<MessageKey, string>> {
  return MESSAGES[locale];
}
