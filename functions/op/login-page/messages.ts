/**
 * Every text the login, consent and error pages show, in Japanese and English (the identity step's
 * page and its claim-by-claim consent too, with its own words where the PIN is the signing
 * password): the page states,
 * a plain-words message per verifier error code (functions/jpki/errors.ts), per login error code
 * (interactions/login-error.ts), per helper error code (protocol/helper-protocol.ts) and per
 * OAuth/OIDC error code oidc-provider renders (its English descriptions are never shown on a
 * Japanese page). Texts contain no personal data; they are escaped where they are rendered.
 * `{rp}`, `{n}`, `{message}` and `{code}` are placeholders (see fill()).
 */

import type { HelperErrorCode } from '../../../protocol/helper-protocol.js';
import type { VerificationErrorCode } from '../../jpki/errors.js';
import type { LoginErrorCode } from '../interactions/login-error.js';

export const LOCALES = ['ja', 'en'] as const;
/** A language the pages are written in. */
export type Locale = (typeof LOCALES)[number];

/** Texts of the page itself (titles, labels, states). */
type UiKey =
  | 'brand'
  | 'title'
  | 'heading'
  | 'intro'
  | 'noscript'
  | 'signingInTo'
  | 'clientPolicy'
  | 'clientTos'
  | 'cancel'
  | 'start'
  | 'statePreparing'
  | 'stateReady'
  | 'stateLooking'
  | 'stateAnswerPrompt'
  | 'stateNoHelper'
  | 'stateNoHelperReasons'
  | 'stateHelperStatusLink'
  | 'stateInstallLink'
  | 'stateHelperOutdated'
  | 'stateNoReader'
  | 'stateNoCard'
  | 'stateNotJpki'
  | 'stateOpening'
  | 'statePinWindow'
  | 'statePinPad'
  | 'stateSigning'
  | 'stateNavigating'
  | 'stateFallback'
  | 'stateNavigationStalled'
  | 'stateSending'
  | 'stateVerified'
  | 'stateTryAgain'
  | 'statePinBlocked'
  | 'stateAnswerUnreadable'
  | 'networkError'
  | 'hintPromptChromium'
  | 'hintPromptFirefox'
  | 'hintDeniedChromium'
  | 'hintDeniedFirefox'
  | 'hintDeniedOther'
  | 'hintNavigation'
  | 'retry'
  | 'triesLeft'
  | 'triesLeftOne'
  | 'withCode'
  | 'consentTitle'
  | 'consentIntro'
  | 'consentScopes'
  | 'consentNotShared'
  | 'consentAllow'
  | 'consentDeny'
  | 'identityTitle'
  | 'identityIntro'
  | 'identityStart'
  | 'identityStateReady'
  | 'identityStatePinWindow'
  | 'identityStatePinPad'
  | 'identityStateSigning'
  | 'identityStateVerified'
  | 'identityStatePinBlocked'
  | 'identityHelperOutdated'
  | 'identityHintNavigation'
  | 'identityTriesBefore'
  | 'identityTriesBeforeOne'
  | 'identityConsentTitle'
  | 'identityConsentIntro'
  | 'identityConsentIntroCertificate'
  | 'identityConsentPurpose'
  | 'identityConsentClaimPurpose'
  | 'identityConsentLegend'
  | 'identityConsentRequired'
  | 'identityConsentOptional'
  | 'identityConsentRequiredNote'
  | 'identityConsentSubstituted'
  | 'identityConsentCertificate'
  | 'identityConsentCertificateNote'
  | 'identityConsentSerial'
  | 'identityConsentSerialNote'
  | 'identityConsentNotKept'
  | 'identityConsentKept'
  | 'identityConsentAlso'
  | 'identityConsentAllow'
  | 'identityConsentDeny'
  | 'errorTitle'
  | 'errorIntro'
  | 'errorCode'
  | 'errorDetail'
  | 'returnTo'
  | 'doneTitle'
  | 'doneText'
  | 'logoutTitle'
  | 'logoutQuestion'
  | 'logoutYes'
  | 'logoutNo'
  | 'logoutDone'
  | 'logoutClose';

/** The scopes the OP knows, each described on the consent page in plain words. */
export const SCOPE_KEYS = {
  openid: 'scope_openid',
  offline_access: 'scope_offline_access',
  myna_certificate_serial: 'scope_myna_certificate_serial',
} as const;
type ScopeKey = (typeof SCOPE_KEYS)[keyof typeof SCOPE_KEYS];

/** OAuth 2.0 / OIDC error codes oidc-provider may render on a page, each with its own text. */
export const OIDC_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_redirect_uri',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_response_type',
  'unsupported_response_mode',
  'request_not_supported',
  'request_uri_not_supported',
  'invalid_request_uri',
  'invalid_request_object',
  'access_denied',
  'login_required',
  'consent_required',
  'interaction_required',
  'unmet_authentication_requirements',
  'session_not_found',
  'server_error',
  'temporarily_unavailable',
] as const;
export type OidcErrorKey = `OIDC_${(typeof OIDC_ERROR_CODES)[number]}` | 'OIDC_other';

/**
 * The identity step's words for the helper errors that speak of the PIN: there it is the signing
 * certificate's password (6–16 uppercase letters and digits, 5 tries).
 */
type IdentityHelperKey =
  | 'IDENTITY_PIN_INCORRECT'
  | 'IDENTITY_PIN_BLOCKED'
  | 'IDENTITY_USER_CANCELLED'
  | 'IDENTITY_PIN_ENTRY_UNAVAILABLE';

/** Every key a message can have. */
export type MessageKey =
  | UiKey
  | IdentityHelperKey
  | ScopeKey
  | OidcErrorKey
  | VerificationErrorCode
  | LoginErrorCode
  | `HELPER_${HelperErrorCode}`;

const ja: Record<MessageKey, string> = {
  brand: 'マイナンバーカード認証',
  title: 'マイナンバーカードでサインイン',
  heading: 'マイナンバーカードでサインイン',
  intro:
    'カードリーダーにマイナンバーカードを置いて、下のボタンを押してください。暗証番号（利用者証明用、数字4桁）は、このパソコンのカード読み取りアプリ（myna-helper）が開く専用の画面に入力します。このページには入力しません。',
  noscript: 'このページを使うにはJavaScriptを有効にしてください。',
  signingInTo: 'サインイン先',
  clientPolicy: '{rp}のプライバシーポリシー',
  clientTos: '{rp}の利用規約',
  cancel: 'キャンセルして{rp}に戻る',
  start: 'マイナンバーカードでサインイン',
  statePreparing: '準備しています…',
  stateReady: 'カードをリーダーに置いたら、「マイナンバーカードでサインイン」を押してください。',
  stateLooking: 'カード読み取りアプリ（myna-helper）を探しています…',
  stateAnswerPrompt: 'ブラウザーの確認画面で「許可」を選んでください。',
  stateNoHelper: 'このパソコンのカード読み取りアプリ（myna-helper）に接続できませんでした。',
  stateNoHelperReasons:
    'アプリが起動していないか、このサイトで使えるように設定されていない可能性があります。アプリの状態を確認してから「もう一度試す」を押してください。',
  stateHelperStatusLink: 'アプリの状態を確認する（このパソコン上のページが開きます）',
  stateInstallLink: 'はじめての方：アプリのインストール方法',
  stateHelperOutdated:
    'このパソコンのカード読み取りアプリ（myna-helper）が古いため使えません。新しいバージョンに更新してから「もう一度試す」を押してください。',
  stateNoReader: 'カードリーダーが見つかりません。リーダーを接続してください。',
  stateNoCard: 'カードリーダーにマイナンバーカードを置いてください。',
  stateNotJpki: 'リーダーのカードはマイナンバーカードではありません。',
  stateOpening: 'カード読み取りアプリの画面を開いています…',
  statePinWindow:
    'カード読み取りアプリ（myna-helper）の画面に暗証番号を入力してください（このページではありません）。その画面にサインイン先として「{site}」が表示されていることを確かめてください。',
  statePinPad:
    'カードリーダーのキーで暗証番号を入力してください。カード読み取りアプリの画面に、サインイン先として「{site}」が表示されます。',
  stateSigning: 'カードで署名しています。カードを動かさないでください…',
  stateNavigating: 'カード読み取りアプリのページを開いています…',
  stateFallback:
    'ブラウザーがアプリへの直接の接続を許可しなかったため、カード読み取りアプリのページを開きます…',
  stateNavigationStalled:
    'カード読み取りアプリのページが開きませんでした（読み込みを止めた、またはアプリが応答しない）。カード読み取りアプリが起動していることを確かめて、「もう一度試す」を押してください。',
  stateSending: '確認しています…',
  stateVerified: '確認できました。元のサイトに戻ります…',
  stateTryAgain: '準備ができたら「もう一度試す」を押してください。',
  statePinBlocked: 'このカードでは、暗証番号の初期化が済むまでサインインできません。',
  stateAnswerUnreadable: 'カード読み取りアプリからの応答を読み取れませんでした。',
  networkError: 'サーバーに接続できませんでした。通信環境を確認して、もう一度お試しください。',
  hintPromptChromium:
    'ボタンを押すと、ブラウザーが「このデバイス上の他のアプリやサービスへのアクセス」を許可するか尋ねます。「許可」を選んでください。このページがこのパソコンのカード読み取りアプリと通信するためで、ほかの機器には接続しません。',
  hintPromptFirefox:
    'ボタンを押すと、Firefoxがこのデバイス上の他のアプリやサービスへのアクセスを許可するか尋ねます。「許可」を選んでください。このページがこのパソコンのカード読み取りアプリと通信するためです。',
  hintDeniedChromium:
    'このサイトは、ブラウザーの設定でこのパソコン内のアプリへの接続がブロックされています。ボタンを押すと、カード読み取りアプリのページを開いてサインインできます。直接の接続を許可するには、アドレスバー左端のサイト情報のアイコンを押し、「ローカルネットワークへのアクセス」を「許可」にしてから、ページを再読み込みしてください。',
  hintDeniedFirefox:
    'このサイトは、ブラウザーの設定でこのパソコン内のアプリへの接続がブロックされています。ボタンを押すと、カード読み取りアプリのページを開いてサインインできます。直接の接続を許可するには、アドレスバーの許可設定のアイコンを押してブロックを解除し、ページを再読み込みしてください。',
  hintDeniedOther:
    'このサイトは、ブラウザーの設定でこのパソコン内のアプリへの接続がブロックされています。ボタンを押すと、カード読み取りアプリのページを開いてサインインできます。',
  hintNavigation:
    'ボタンを押すと、このパソコンのカード読み取りアプリのページが開きます。アプリの画面に暗証番号を入力すると、自動的にこのサイトに戻ります。',
  retry: 'もう一度試す',
  triesLeft: '{message}残り{n}回です。',
  triesLeftOne: '{message}残り1回です。',
  withCode: '{message}（エラーコード：{code}）',
  consentTitle: '{rp}に情報を提供しますか？',
  consentIntro: 'マイナンバーカードで本人確認ができました。{rp}に次の情報を提供します。',
  consentScopes: '提供される情報',
  consentNotShared: '氏名・住所・生年月日・性別・マイナンバーは提供されません。',
  consentAllow: '許可する',
  consentDeny: '許可しない',
  identityTitle: 'マイナンバーカードで本人確認',
  identityIntro:
    '{rp}が本人確認を求めています。確認には、氏名・住所・生年月日・性別が記録された署名用電子証明書を使います。カードをリーダーに置いたまま下のボタンを押してください。署名用電子証明書のパスワード（英大文字と数字の6〜16桁、5回まで）は、このパソコンのカード読み取りアプリ（myna-helper）が開く専用の画面に入力します。このページには入力しません。{rp}に渡す情報は、次の画面で確かめてから選べます。',
  identityStart: '署名用電子証明書で本人確認する',
  identityStateReady: 'カードをリーダーに置いたら、「署名用電子証明書で本人確認する」を押してください。',
  identityStatePinWindow:
    'カード読み取りアプリ（myna-helper）の画面に、署名用電子証明書のパスワード（英大文字と数字の6〜16桁）を入力してください（このページではありません）。その画面に確認先として「{site}」が表示されていることを確かめてください。',
  identityStatePinPad:
    'カードリーダーのキーで署名用電子証明書のパスワードを入力してください。カード読み取りアプリの画面に、確認先として「{site}」が表示されます。',
  identityStateSigning: '署名用電子証明書で署名しています。カードを動かさないでください…',
  identityStateVerified: '本人確認ができました。提供する情報の確認に進みます…',
  identityStatePinBlocked:
    'このカードでは、署名用電子証明書のパスワードの再設定が済むまで本人確認できません。',
  identityHelperOutdated:
    'このパソコンのカード読み取りアプリ（myna-helper）は、本人確認に対応していない古いバージョンです。新しいバージョンに更新してから「もう一度試す」を押してください。',
  identityHintNavigation:
    'ボタンを押すと、このパソコンのカード読み取りアプリのページが開きます。アプリの画面に署名用電子証明書のパスワードを入力すると、自動的にこのサイトに戻ります。',
  identityTriesBefore: '{message}パスワードの残り回数は{n}回です。',
  identityTriesBeforeOne: '{message}パスワードの残り回数は1回です。間違えるとロックされます。',
  identityConsentTitle: '{rp}に本人確認の情報を提供しますか？',
  identityConsentIntro:
    '署名用電子証明書で本人確認ができました。{rp}には、下でチェックした情報だけを、今回のサインインで1回だけ提供します。',
  identityConsentIntroCertificate:
    '署名用電子証明書で本人確認ができました。{rp}には、今回のサインインで1回だけ、下でチェックした情報と、署名用電子証明書そのものを提供します。証明書には、チェックを外した項目も含め、氏名・住所・生年月日・性別がすべて記載されています。',
  identityConsentPurpose: '{rp}が示す利用目的：{purpose}',
  identityConsentClaimPurpose: 'この項目の利用目的：{purpose}',
  identityConsentLegend: '{rp}に提供する情報',
  identityConsentRequired: '必須',
  identityConsentOptional: '任意',
  identityConsentRequiredNote:
    '{rp}が必須としている項目は外せません。提供したくない場合は「提供しない」を選んでください（サインインは中止されます）。',
  identityConsentSubstituted: 'カードに登録できない文字（外字）は代わりの文字で表示されています。',
  identityConsentCertificate: '署名用電子証明書そのもの',
  identityConsentCertificateNote:
    '証明書には、氏名・住所・生年月日・性別と証明書の番号（シリアル番号）が記載されています（上でチェックを外した項目も含みます）。{rp}は、この本人確認の記録として、サインインサービスの署名付きで受け取ります。',
  identityConsentSerial: '署名用電子証明書の番号（シリアル番号）',
  identityConsentSerialNote:
    'あなたのカードの証明書を特定する番号です。受け取ったサービス同士で、あなたの記録を結び付けることができます（証明書が更新されると変わります）。',
  identityConsentNotKept: 'このサインインサービスは、これらの情報を保存しません。',
  identityConsentKept:
    'このサインインサービスは、この本人確認の記録として、署名用電子証明書（氏名・住所・生年月日・性別が記載されています）とカードの署名を暗号化して{n}日間保存し、その後削除します。',
  identityConsentAlso: 'このほかに提供される情報',
  identityConsentAllow: 'チェックした情報を提供する',
  identityConsentDeny: '提供しない',
  errorTitle: 'サインインできませんでした',
  errorIntro: '元のサイトに戻って、もう一度サインインしてください。',
  errorCode: 'エラーコード：{code}',
  errorDetail: '詳細：{detail}',
  returnTo: '{rp}に戻る',
  doneTitle: 'このサインインは終了しています',
  doneText:
    'サインインはすでに完了したか、有効時間が過ぎました。続けるにはサービスのページに戻ってください。',
  logoutTitle: 'サインアウト',
  logoutQuestion: 'このサービスからサインアウトしますか？',
  logoutYes: 'サインアウトする',
  logoutNo: 'サインインしたままにする',
  logoutDone: 'サインアウトしました。',
  logoutClose: 'このページは閉じてかまいません。',
  scope_openid: 'このサービス専用のあなたの識別番号（ほかのサービスとは共通になりません）',
  scope_offline_access: 'あなたが操作していない間もサインイン状態を保つこと（最長14日間）',
  scope_myna_certificate_serial:
    'カードの利用者証明用電子証明書のシリアル番号（サービスをまたいであなたを特定できる番号です）',
  OIDC_invalid_request: 'サービスから届いたサインインの要求に誤りがあるため、受け付けられません。',
  OIDC_invalid_client: 'このサービスはこのサインインに登録されていません。',
  OIDC_invalid_redirect_uri:
    'サービスが登録されていない戻り先を指定したため、安全のためサインインを中止しました。',
  OIDC_invalid_scope: 'サービスが、ここでは提供できない情報を求めています。',
  OIDC_unauthorized_client: 'このサービスには、この方法でのサインインが許可されていません。',
  OIDC_unsupported_response_type: 'サービスのサインイン設定に対応していません。',
  OIDC_unsupported_response_mode: 'サービスのサインイン設定に対応していません。',
  OIDC_request_not_supported: 'サービスのサインイン設定に対応していません。',
  OIDC_request_uri_not_supported: 'サービスのサインイン設定に対応していません。',
  OIDC_invalid_request_uri: 'サービスから届いたサインインの要求を読み取れませんでした。',
  OIDC_invalid_request_object: 'サービスから届いたサインインの要求を読み取れませんでした。',
  OIDC_access_denied: 'サインインは取り消されました。',
  OIDC_login_required: 'もう一度サインインしてください。',
  OIDC_consent_required: 'もう一度サインインしてください。',
  OIDC_interaction_required: 'もう一度サインインしてください。',
  OIDC_unmet_authentication_requirements: 'サービスが求める方法でのサインインは、ここでは使えません。',
  OIDC_session_not_found: 'すでにサインアウトしています。',
  OIDC_server_error: 'サーバーで問題が発生しました。しばらくしてからもう一度お試しください。',
  OIDC_temporarily_unavailable: 'ただいま混み合っています。しばらくしてからもう一度お試しください。',
  OIDC_other: 'サインインを完了できませんでした。',
  CERTIFICATE_TOO_LARGE: '証明書が大きすぎます。マイナンバーカードの証明書ではありません。',
  CERTIFICATE_MALFORMED: '証明書を読み取れませんでした。',
  ALGORITHM_NOT_ALLOWED: '証明書の署名方式が受け付けられません。',
  KEY_NOT_ALLOWED: '証明書の鍵が受け付けられません。',
  ISSUER_UNTRUSTED: 'この証明書は信頼できる発行元（J-LISの利用者証明用）から発行されていません。',
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
  ISSUER_KEY_MISMATCH:
    'この証明書は、別の世代の発行元の証明書と同じ番号のため、サインインできません。お問い合わせ窓口にご連絡ください。',
  SIGNING_CERTIFICATE_INVALID: '署名用電子証明書を受け付けられませんでした。',
  SIGNING_CERTIFICATE_EXPIRED: '署名用電子証明書の有効期限が切れています。市区町村の窓口で更新してください。',
  SIGNING_CHAIN_INVALID: 'この署名用電子証明書は、信頼できる発行元（J-LISの署名用）から発行されていません。',
  SIGNING_POLICY_INVALID: '署名用電子証明書ではありません。',
  SIGNING_KEY_USAGE_INVALID: 'この証明書は電子署名に使えません。',
  SIGNING_REVOKED:
    '署名用電子証明書は失効しています（氏名や住所が変わると失効します）。市区町村の窓口で新しい証明書の発行を受けてください。',
  SIGNING_REVOCATION_UNKNOWN:
    '署名用電子証明書の失効状態を確認できませんでした。しばらくしてからお試しください。',
  IDENTITY_SIGNATURE_INVALID: '署名がこのサイトとこの本人確認に対応していません。もう一度お試しください。',
  CARD_MISMATCH:
    '署名用電子証明書が、サインインに使ったカードのものではありません。サインインしたカードで本人確認してください。',
  FACTS_MALFORMED: '署名用電子証明書の基本4情報（氏名・住所・生年月日・性別）を読み取れませんでした。',
  ANSWER_MALFORMED: 'カードからの応答を読み取れませんでした。もう一度お試しください。',
  CHALLENGE_UNAVAILABLE:
    'サインインの有効時間（5分）が過ぎたか、すでに使われました。もう一度お試しください。',
  INTERACTION_MISMATCH: 'このページは別のサインインのものです。元のサイトからやり直してください。',
  INTERACTION_EXPIRED: 'サインインの有効時間が過ぎました。元のサイトからやり直してください。',
  CROSS_ORIGIN_REQUEST: '別のサイトからの送信は受け付けません。',
  TOO_MANY_ATTEMPTS: '試行回数が多すぎます。{n}秒待ってからお試しください。',
  IDENTITY_PIN_INCORRECT: '署名用電子証明書のパスワードが違います。',
  IDENTITY_PIN_BLOCKED:
    '署名用電子証明書のパスワードがロックされています。マイナンバーカードを持って、お住まいの市区町村の窓口でパスワードの再設定を申請してください。',
  IDENTITY_USER_CANCELLED:
    'カード読み取りアプリの画面で、署名用電子証明書のパスワードの入力が取り消されました。',
  IDENTITY_PIN_ENTRY_UNAVAILABLE:
    'カード読み取りアプリがパスワードの入力画面を表示できません。このパソコンにログインした状態でアプリが動いているか、アプリの状態を確認してください。',
  HELPER_NO_READER: 'カードリーダーが見つかりません。リーダーを接続してください。',
  HELPER_NO_CARD: 'カードリーダーにカードがありません。マイナンバーカードを置いてください。',
  HELPER_NOT_JPKI: 'リーダーのカードはマイナンバーカードではありません。',
  HELPER_PIN_INCORRECT: '暗証番号が違います。',
  HELPER_PIN_BLOCKED:
    '暗証番号がロックされています。マイナンバーカードを持って、お住まいの市区町村の窓口で暗証番号の再設定を申請してください。',
  HELPER_CARD_REMOVED: 'カードが取り外されました。カードを置き直してください。',
  HELPER_CARD_ERROR: 'カードとの通信に失敗しました。カードを置き直してください。',
  HELPER_BUSY: '別の操作を実行中です。少し待ってからお試しください。',
  HELPER_TIMEOUT: '時間内に完了しませんでした。もう一度お試しください。',
  HELPER_CANCELLED: '操作は取り消されました。',
  HELPER_USER_CANCELLED: 'カード読み取りアプリの画面で暗証番号の入力が取り消されました。',
  HELPER_PIN_ENTRY_UNAVAILABLE:
    'カード読み取りアプリが暗証番号の入力画面を表示できません。このパソコンにログインした状態でアプリが動いているか、アプリの状態を確認してください。',
  HELPER_BAD_REQUEST: 'カード読み取りアプリとの通信に失敗しました。ページを再読み込みしてください。',
};

const en: Record<MessageKey, string> = {
  brand: 'MyNumber card sign-in',
  title: 'Sign in with your MyNumber card',
  heading: 'Sign in with your MyNumber card',
  intro:
    'Place your MyNumber card on the card reader and press the button below. You enter the PIN (user authentication, 4 digits) in the window of the card helper (myna-helper) on this computer, never on this page.',
  noscript: 'This page needs JavaScript. Please turn it on.',
  signingInTo: 'Signing in to',
  clientPolicy: 'Privacy policy of {rp}',
  clientTos: 'Terms of service of {rp}',
  cancel: 'Cancel and return to {rp}',
  start: 'Sign in with MyNumber card',
  statePreparing: 'Getting ready…',
  stateReady: 'Place your card on the reader, then press "Sign in with MyNumber card".',
  stateLooking: 'Looking for the card helper (myna-helper) on this computer…',
  stateAnswerPrompt: 'Your browser is asking for permission: choose "Allow".',
  stateNoHelper: 'Could not connect to the card helper (myna-helper) on this computer.',
  stateNoHelperReasons:
    'Either it is not running, or it is not set up for this site. Check its status, then press "Try again".',
  stateHelperStatusLink: 'Check the helper’s status (opens a page on this computer)',
  stateInstallLink: 'First time? How to install the helper',
  stateHelperOutdated:
    'The card helper (myna-helper) on this computer is outdated. Please update it, then press "Try again".',
  stateNoReader: 'No card reader found. Please connect a reader.',
  stateNoCard: 'Please place your MyNumber card on the reader.',
  stateNotJpki: 'The card on the reader is not a MyNumber card.',
  stateOpening: 'Opening the card helper’s window…',
  statePinWindow:
    'Enter your PIN in the card helper’s window (not on this page). Check that the window names {site} as the site you are signing in to.',
  statePinPad:
    'Enter your PIN on the card reader’s keypad. The card helper’s window names {site} as the site.',
  stateSigning: 'Your card is signing. Do not move the card…',
  stateNavigating: 'Opening the card helper’s page…',
  stateFallback:
    'Your browser did not allow a direct connection to the helper. Opening the card helper’s page…',
  stateNavigationStalled:
    'The card helper’s page did not open (the loading was stopped, or the helper does not answer). Make sure the card helper is running, then press “Try again”.',
  stateSending: 'Checking…',
  stateVerified: 'Verified. Taking you back…',
  stateTryAgain: 'Press "Try again" when you are ready.',
  statePinBlocked: 'This card cannot sign in until its PIN has been reset.',
  stateAnswerUnreadable: 'The answer from the card helper could not be read.',
  networkError: 'Could not reach the sign-in service. Check your connection and try again.',
  hintPromptChromium:
    'When you press the button, your browser asks whether this site may access other apps and services on this device. Choose "Allow": it lets this page talk to the card helper on this computer, nothing else.',
  hintPromptFirefox:
    'When you press the button, Firefox asks whether this site may access other apps and services on this device. Choose "Allow": it lets this page talk to the card helper on this computer.',
  hintDeniedChromium:
    'Your browser blocks this site from reaching apps on this computer. The button opens the card helper’s page instead, and you can sign in there. To allow the direct connection again, click the site information icon at the left of the address bar, set "Local network access" to "Allow", then reload the page.',
  hintDeniedFirefox:
    'Your browser blocks this site from reaching apps on this computer. The button opens the card helper’s page instead, and you can sign in there. To allow the direct connection again, click the permissions icon in the address bar, remove the block, then reload the page.',
  hintDeniedOther:
    'Your browser blocks this site from reaching apps on this computer. The button opens the card helper’s page instead, and you can sign in there.',
  hintNavigation:
    'The button opens the card helper’s page on this computer. After you enter your PIN in the helper’s window, the browser brings you back here automatically.',
  retry: 'Try again',
  triesLeft: '{message} {n} tries left.',
  triesLeftOne: '{message} 1 try left.',
  withCode: '{message} (error code: {code})',
  consentTitle: 'Share this with {rp}?',
  consentIntro: 'Your MyNumber card confirmed it is you. {rp} will receive:',
  consentScopes: 'What is shared',
  consentNotShared: 'Your name, address, date of birth, gender and My Number are never shared.',
  consentAllow: 'Allow',
  consentDeny: 'Do not allow',
  identityTitle: 'Verify your identity with your MyNumber card',
  identityIntro:
    '{rp} asks to verify your identity, with your card’s signing certificate (it holds your name, address, date of birth and gender). Keep your card on the reader and press the button below. You enter the signing certificate’s password (6 to 16 uppercase letters and digits, 5 tries) in the window of the card helper (myna-helper) on this computer, never on this page. On the next page you see exactly what {rp} would receive, and choose.',
  identityStart: 'Verify identity with the signing certificate',
  identityStateReady:
    'Place your card on the reader, then press "Verify identity with the signing certificate".',
  identityStatePinWindow:
    'Enter your signing certificate’s password (6 to 16 uppercase letters and digits) in the card helper’s window (not on this page). Check that the window names {site} as the site verifying your identity.',
  identityStatePinPad:
    'Enter your signing certificate’s password on the card reader’s keypad. The card helper’s window names {site} as the site.',
  identityStateSigning: 'Your card is signing with the signing certificate. Do not move the card…',
  identityStateVerified: 'Identity verified. Showing what would be shared…',
  identityStatePinBlocked:
    'This card cannot verify your identity until the signing certificate’s password has been reset.',
  identityHelperOutdated:
    'The card helper (myna-helper) on this computer is an old version that cannot verify identities. Please update it, then press "Try again".',
  identityHintNavigation:
    'The button opens the card helper’s page on this computer. After you enter the signing certificate’s password in the helper’s window, the browser brings you back here automatically.',
  identityTriesBefore: '{message} The password has {n} tries left.',
  identityTriesBeforeOne: '{message} The password has 1 try left: a wrong one locks it.',
  identityConsentTitle: 'Share your verified identity with {rp}?',
  identityConsentIntro:
    'Your signing certificate confirmed who you are. {rp} receives only what is ticked below, once, for this sign-in.',
  identityConsentIntroCertificate:
    'Your signing certificate confirmed who you are. {rp} receives, once, for this sign-in, what is ticked below and your signing certificate itself, which holds your name, address, date of birth and gender, including anything you untick.',
  identityConsentPurpose: 'Purpose, as {rp} states it: {purpose}',
  identityConsentClaimPurpose: 'Purpose of this item: {purpose}',
  identityConsentLegend: 'What {rp} receives',
  identityConsentRequired: 'required',
  identityConsentOptional: 'optional',
  identityConsentRequiredNote:
    'Items {rp} requires cannot be unticked. To share nothing, choose "Do not share" (the sign-in stops).',
  identityConsentSubstituted:
    'A character the card cannot hold (gaiji) is shown as its substitute character.',
  identityConsentCertificate: 'Your signing certificate itself',
  identityConsentCertificateNote:
    'It holds your name, address, date of birth, gender and the certificate’s number (serial), including anything you untick above. {rp} receives it, signed by the sign-in service, as the record of this verification.',
  identityConsentSerial: 'Your signing certificate’s number (serial)',
  identityConsentSerialNote:
    'It identifies your card’s certificate: services that receive it can link their records of you (it changes when the certificate is renewed).',
  identityConsentNotKept: 'The sign-in service keeps none of this.',
  identityConsentKept:
    'As the record of this verification, the sign-in service keeps your signing certificate (it holds your name, address, date of birth and gender) and your card’s signature, encrypted, for {n} days, then deletes them.',
  identityConsentAlso: 'Also shared',
  identityConsentAllow: 'Share what is ticked',
  identityConsentDeny: 'Do not share',
  errorTitle: 'Could not sign you in',
  errorIntro: 'Go back to the site you came from and sign in again.',
  errorCode: 'Error code: {code}',
  errorDetail: 'Details: {detail}',
  returnTo: 'Return to {rp}',
  doneTitle: 'This sign-in has ended',
  doneText: 'The sign-in is already complete, or it expired. Go back to the service to continue.',
  logoutTitle: 'Sign out',
  logoutQuestion: 'Do you want to sign out?',
  logoutYes: 'Sign out',
  logoutNo: 'Stay signed in',
  logoutDone: 'You are signed out.',
  logoutClose: 'You can close this page.',
  scope_openid: 'An ID for you that only this service gets (other services cannot match it)',
  scope_offline_access: 'Staying signed in while you are away (up to 14 days)',
  scope_myna_certificate_serial:
    "The serial number of your card's user-authentication certificate (it identifies you across services)",
  OIDC_invalid_request: 'The service sent a sign-in request that cannot be accepted.',
  OIDC_invalid_client: 'This service is not registered for this sign-in.',
  OIDC_invalid_redirect_uri:
    'The service asked to return to an address that is not registered for it, so the sign-in was stopped for your safety.',
  OIDC_invalid_scope: 'The service asked for information that is not available here.',
  OIDC_unauthorized_client: 'This service is not allowed to sign in this way.',
  OIDC_unsupported_response_type: "The service's sign-in settings are not supported.",
  OIDC_unsupported_response_mode: "The service's sign-in settings are not supported.",
  OIDC_request_not_supported: "The service's sign-in settings are not supported.",
  OIDC_request_uri_not_supported: "The service's sign-in settings are not supported.",
  OIDC_invalid_request_uri: "The service's sign-in request could not be read.",
  OIDC_invalid_request_object: "The service's sign-in request could not be read.",
  OIDC_access_denied: 'The sign-in was cancelled.',
  OIDC_login_required: 'Please sign in again.',
  OIDC_consent_required: 'Please sign in again.',
  OIDC_interaction_required: 'Please sign in again.',
  OIDC_unmet_authentication_requirements: 'The kind of sign-in the service asked for is not available here.',
  OIDC_session_not_found: 'You are already signed out.',
  OIDC_server_error: 'Something went wrong on our side. Please try again in a moment.',
  OIDC_temporarily_unavailable: 'The service is busy. Please try again in a moment.',
  OIDC_other: 'The sign-in could not be completed.',
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
  ISSUER_KEY_MISMATCH:
    'This certificate has the same number as a certificate from another generation of the issuing authority, so it cannot sign in. Please contact the service desk.',
  SIGNING_CERTIFICATE_INVALID: 'The signing certificate could not be accepted.',
  SIGNING_CERTIFICATE_EXPIRED: 'The signing certificate has expired. Renew it at your municipal office.',
  SIGNING_CHAIN_INVALID: 'The signing certificate was not issued by the trusted JPKI signing authority.',
  SIGNING_POLICY_INVALID: 'This is not a signing certificate.',
  SIGNING_KEY_USAGE_INVALID: 'This certificate cannot be used for electronic signatures.',
  SIGNING_REVOKED:
    'The signing certificate has been revoked (it is when your name or address changes). Get a new one at your municipal office.',
  SIGNING_REVOCATION_UNKNOWN:
    'The revocation status of the signing certificate could not be checked. Please try later.',
  IDENTITY_SIGNATURE_INVALID:
    'The signature does not match this site and this identity verification. Please try again.',
  CARD_MISMATCH:
    'The signing certificate is not from the card you signed in with. Please verify with that card.',
  FACTS_MALFORMED:
    'The basic facts (name, address, date of birth, gender) in the signing certificate could not be read.',
  ANSWER_MALFORMED: "The card's answer could not be read. Please try again.",
  CHALLENGE_UNAVAILABLE: 'This sign-in expired (5 minutes) or was already used. Please try again.',
  INTERACTION_MISMATCH: 'This page belongs to another sign-in. Start again from the site you came from.',
  INTERACTION_EXPIRED: 'This sign-in has expired. Start again from the site you came from.',
  CROSS_ORIGIN_REQUEST: 'Requests from other sites are not accepted.',
  TOO_MANY_ATTEMPTS: 'Too many attempts. Wait {n} seconds, then try again.',
  IDENTITY_PIN_INCORRECT: 'Wrong signing certificate password.',
  IDENTITY_PIN_BLOCKED:
    'The signing certificate’s password is locked. Take your MyNumber card to your municipal office to have it reset.',
  IDENTITY_USER_CANCELLED: 'The password entry was cancelled in the card helper’s window.',
  IDENTITY_PIN_ENTRY_UNAVAILABLE:
    'The card helper cannot show its password window. Make sure it runs in your desktop session (signed in to this computer), and check its status.',
  HELPER_NO_READER: 'No card reader found. Please connect a reader.',
  HELPER_NO_CARD: 'There is no card on the reader. Please place your MyNumber card on it.',
  HELPER_NOT_JPKI: 'The card on the reader is not a MyNumber card.',
  HELPER_PIN_INCORRECT: 'Wrong PIN.',
  HELPER_PIN_BLOCKED:
    'The PIN is locked. Take your MyNumber card to your municipal office to have the PIN reset.',
  HELPER_CARD_REMOVED: 'The card was removed. Please place it on the reader again.',
  HELPER_CARD_ERROR: 'The card did not answer correctly. Please place it on the reader again.',
  HELPER_BUSY: 'Another card operation is running. Please wait a moment and try again.',
  HELPER_TIMEOUT: 'The card operation took too long. Please try again.',
  HELPER_CANCELLED: 'The card operation was cancelled.',
  HELPER_USER_CANCELLED: 'The PIN entry was cancelled in the card helper’s window.',
  HELPER_PIN_ENTRY_UNAVAILABLE:
    'The card helper cannot show its PIN window. Make sure it runs in your desktop session (signed in to this computer), and check its status.',
  HELPER_BAD_REQUEST: 'Talking to the card helper failed. Please reload the page.',
};

const MESSAGES: Record<Locale, Record<MessageKey, string>> = { ja, en };

/** The text of `key` in `locale`. */
export function message(locale: Locale, key: MessageKey): string {
  return MESSAGES[locale][key];
}

/** `template` with each `{name}` replaced by `values[name]`. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

/** The text of an OAuth/OIDC error code (a general one for codes without their own). */
export function oidcErrorMessage(locale: Locale, code: string): string {
  const known = (OIDC_ERROR_CODES as readonly string[]).includes(code);
  return message(locale, known ? (`OIDC_${code}` as OidcErrorKey) : 'OIDC_other');
}

/** All texts of `locale` (the login page hands them to its script). */
export function messagesOf(locale: Locale): Readonly<Record<MessageKey, string>> {
  return MESSAGES[locale];
}
