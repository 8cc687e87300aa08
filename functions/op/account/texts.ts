/**
 * Every text of the "My account" pages, in Japanese and English: what the person sees, in plain
 * words, and a message per account-page error code (account-error.ts). No text contains personal
 * data; `{name}`, `{n}`, `{date}`, `{code}` are placeholders (login-page/messages.ts fill()).
 * Scope descriptions and claim names come from the login page's texts (one wording per thing).
 */
import type { Locale } from '../login-page/messages.js';
import type { AccountErrorCode } from './account-error.js';

type AccountTextKey =
  | 'pageTitle'
  | 'heading'
  | 'intro'
  | 'introShared'
  | 'sessionNote'
  | 'servicesHeading'
  | 'servicesIntro'
  | 'servicesNone'
  | 'firstSignIn'
  | 'lastSignIn'
  | 'never'
  | 'received'
  | 'receivedNothing'
  | 'claimNames'
  | 'identityReleases'
  | 'identityRelease'
  | 'identityNone'
  | 'retainedEvidence'
  | 'retainedEvidenceItem'
  | 'retainedEvidenceHelp'
  | 'backchannel'
  | 'backchannelYes'
  | 'backchannelNo'
  | 'sharedIdentifier'
  | 'sharedIdentifierText'
  | 'fingerprint'
  | 'fingerprintHelp'
  | 'fingerprintUnknown'
  | 'access'
  | 'accessActive'
  | 'accessSessions'
  | 'accessNone'
  | 'withdraw'
  | 'withdrawHelp'
  | 'certificatesHeading'
  | 'certificatesIntro'
  | 'certificateIssued'
  | 'certificateFirstUsed'
  | 'certificateGeneration'
  | 'certificateActive'
  | 'certificateRevoked'
  | 'certificateExpired'
  | 'actionsHeading'
  | 'export'
  | 'exportHelp'
  | 'signOutEverywhere'
  | 'signOutEverywhereHelp'
  | 'deleteAccount'
  | 'deleteAccountHelp'
  | 'signOut'
  | 'doneWithdrawn'
  | 'doneSignedOutEverywhere'
  | 'deleteTitle'
  | 'deleteIntro'
  | 'deleteConsequences'
  | 'deleteConsequenceServices'
  | 'deleteConsequencePseudonym'
  | 'deleteConsequencePseudonymShared'
  | 'deleteConsequenceHistory'
  | 'deleteConsequenceEvidence'
  | 'deleteConsequenceNoUndo'
  | 'deleteConfirm'
  | 'deleteSubmit'
  | 'deleteCancel'
  | 'deletedTitle'
  | 'deletedText'
  | 'signedOutTitle'
  | 'signedOutText'
  | 'signInAgain'
  | 'errorTitle'
  | 'errorCode'
  | 'backToAccount';

/** A text key of the account pages. */
export type AccountTextKeyOrError = AccountTextKey | AccountErrorCode;

const ja: Record<AccountTextKeyOrError, string> = {
  pageTitle: 'マイアカウント',
  heading: 'マイアカウント',
  intro:
    'マイナンバーカードでサインインしたサービスと、それぞれに渡した情報です。サービスごとに別の識別番号（仮名）が渡されているので、サービス同士があなたを同じ人だと突き合わせることはできません。',
  introShared:
    'ただし「共通の識別番号」と表示したサービスには、運営者の設定により、同じ設定のサービスすべてに共通の識別番号が渡されるため、それらのサービス同士はあなたを同じ人だと突き合わせることができます。',
  sessionNote:
    'このページには{until}までサインインしています（カードでのサインインから15分間）。終わったら「このページからサインアウト」を押してください。',
  servicesHeading: 'サインインしたサービス',
  servicesIntro:
    '表示するのは、どの情報をいつ渡したかだけで、情報の値（氏名など）は表示しません。値は保存もしていません。例外は、サービスが保管を義務づけられている本人確認の記録（そのサービスの欄に表示）で、暗号化して保管し、期限が来ると削除します。',
  servicesNone: 'まだどのサービスにもサインインしていません。',
  firstSignIn: '初めてのサインイン',
  lastSignIn: '最後のサインイン',
  never: '記録なし',
  received: '渡した情報',
  receivedNothing: '記録なし',
  claimNames: '項目',
  identityReleases: '本人確認で渡した情報',
  identityRelease: '{date}：{names}',
  identityNone: 'なし',
  retainedEvidence: '保管中の本人確認の記録',
  retainedEvidenceItem: '{created}に作成、{until}まで保管（記録ID：{id}）',
  retainedEvidenceHelp:
    '{name}には本人確認の記録を残す義務があるため、この確認に使った署名用電子証明書（氏名・住所・生年月日・性別を含みます）を暗号化して保管しています。内容はここには表示しません。期限が来ると削除します。アカウントを削除しても期限までは残りますが、あなたとのつながりはなくなります。',
  backchannel: 'サインアウトの通知',
  backchannelYes: 'このサービスは、ここでのサインアウトや利用停止の通知を受け取ります',
  backchannelNo: 'このサービスは通知を受け取りません（サービス側でのサインアウトが必要です）',
  sharedIdentifier: '共通の識別番号',
  sharedIdentifierText:
    'このサービスには、運営者の設定により、サービスごとの仮名ではなく、同じ設定のほかのサービスすべてと共通の識別番号が渡されます。そのため、これらのサービスはサービスをまたいであなたを同じ人だと認識できます。',
  fingerprint: '識別番号の確認コード',
  fingerprintHelp:
    'このサービスが持っているあなたの識別番号から計算した短いコードです。サービスの画面に同じコードがあれば、同じ識別番号です。',
  fingerprintUnknown: '計算できません（このサービスは登録がなくなっています）',
  access: '現在の利用状況',
  accessActive: '利用を許可しています',
  accessSessions: 'サインイン中：{n}件',
  accessNone: '許可はありません（次回のサインインで改めて確認します）',
  withdraw: '{name}の利用を停止',
  withdrawHelp:
    '許可・トークン・サインイン状態を取り消し、サービスにサインアウトを通知します。次にサインインするときは改めて同意を確認します。',
  certificatesHeading: 'このアカウントのカード（証明書）',
  certificatesIntro:
    'カードの更新で証明書が変わっても、同じアカウントとしてつながっています。証明書のシリアル番号は保存していません。',
  certificateIssued: '発行日',
  certificateFirstUsed: '初めて使った日',
  certificateGeneration: '発行元（認証局の世代）',
  certificateActive: 'サインインに使えます',
  certificateRevoked: '失効しています：この証明書ではサインインできません',
  certificateExpired: '有効期限が切れています：この証明書ではサインインできません',
  actionsHeading: 'アカウントの操作',
  export: 'データをダウンロード（JSON）',
  exportHelp: 'このアカウントについて保存しているすべての情報を、1つのファイルとしてダウンロードします。',
  signOutEverywhere: 'すべてのサービスからサインアウト',
  signOutEverywhereHelp: 'すべてのサインイン状態を終了し、通知を受け取るサービスに知らせます。',
  deleteAccount: 'アカウントを削除…',
  deleteAccountHelp: '削除する前に、確認のページで何が起こるかを説明します。',
  signOut: 'このページからサインアウト',
  doneWithdrawn: '{name}の利用を停止しました。',
  doneSignedOutEverywhere:
    'すべてのサービスからサインアウトしました。通知を受け取るサービスには知らせました。',
  deleteTitle: 'アカウントを削除しますか？',
  deleteIntro: '削除すると、次のことが起こります。',
  deleteConsequences: '削除の結果',
  deleteConsequenceServices: 'すべてのサービスからサインアウトし、通知を受け取るサービスに知らせます。',
  deleteConsequencePseudonym:
    '次にサインインすると、どのサービスにも新しい識別番号が渡されます。サービスはあなたを以前と同じ人だと分からなくなり、サービスに保存したデータにアクセスできなくなることがあります。',
  deleteConsequencePseudonymShared:
    'ただし、{names}には運営者の設定により共通の識別番号が渡されます。新しい識別番号からも同じカードだと分かるため、これらのサービスは削除の後もあなたのカードを再び認識できます。',
  deleteConsequenceHistory: 'サインインの記録、許可、このカードとアカウントのつながりをすべて消去します。',
  deleteConsequenceEvidence:
    '{name}は本人確認の記録を{date}まで保管する必要があります。その記録は、あなたとのつながりのない状態で暗号化されたまま残り、その日に削除されます。',
  deleteConsequenceNoUndo: '元に戻すことはできません。',
  deleteConfirm: '上の説明を読み、アカウントを削除することに同意します',
  deleteSubmit: 'アカウントを削除する',
  deleteCancel: '削除しないで戻る',
  deletedTitle: 'アカウントを削除しました',
  deletedText:
    'このアカウントにつながる情報はすべて消去しました。次にカードでサインインすると、新しいアカウントになります。',
  signedOutTitle: 'サインアウトしました',
  signedOutText: 'マイアカウントのページからサインアウトしました。',
  signInAgain: 'もう一度サインイン',
  errorTitle: 'この操作はできませんでした',
  errorCode: 'エラーコード：{code}',
  backToAccount: 'マイアカウントに戻る',
  LOGIN_STATE_MISMATCH:
    'サインインを最初からやり直してください（別のタブや古いリンクからのサインインです）。',
  LOGIN_CODE_INVALID:
    'サインインの確認に失敗しました（期限切れか、使用済みです）。もう一度サインインしてください。',
  LOGIN_NOT_FRESH:
    'このページには、たった今のカードでのサインインが必要です。もう一度サインインしてください。',
  LOGIN_CANCELLED: 'サインインはキャンセルされました。',
  SESSION_EXPIRED:
    'このページのサインインは終了しています（15分を過ぎたか、サインアウトしました）。もう一度サインインしてください。',
  FORM_REFUSED:
    'ほかのサイトからの操作、または古いページからの操作は受け付けません。ページを開き直してください。',
  FORM_INVALID: 'この操作は受け付けられませんでした。ページを開き直して、もう一度お試しください。',
};

const en: Record<AccountTextKeyOrError, string> = {
  pageTitle: 'My account',
  heading: 'My account',
  intro:
    'These are the services you signed in to with your MyNumber card, and what each of them received. Every service gets its own ID for you (a pseudonym), so services cannot match you with each other.',
  introShared:
    'Except the services marked “Shared ID”: the operator of this sign-in service set them up to get one ID for you that is the same for all of them, so they can match you with each other.',
  sessionNote:
    'You are signed in to this page until {until} (15 minutes after your card sign-in). When you are done, press "Sign out of this page".',
  servicesHeading: 'Services you signed in to',
  servicesIntro:
    'Only which information went to whom, and when, is shown: never the values themselves (your name and so on). They are not kept either, except in a record of an identity check that a service must keep (listed with that service): it is kept encrypted and deleted on its date.',
  servicesNone: 'You have not signed in to any service yet.',
  firstSignIn: 'First sign-in',
  lastSignIn: 'Last sign-in',
  never: 'not recorded',
  received: 'What it received',
  receivedNothing: 'nothing recorded',
  claimNames: 'Items',
  identityReleases: 'Identity information given',
  identityRelease: '{date}: {names}',
  identityNone: 'none',
  retainedEvidence: 'Identity check records kept',
  retainedEvidenceItem: 'Made {created}, kept until {until} (record ID {id})',
  retainedEvidenceHelp:
    '{name} must keep a record of your identity check, so the certificate used for it (with your name, address, date of birth and gender) is kept by this sign-in service, encrypted. Its content is not shown, and it is deleted on that date. If you delete your account, it stays until then, without any link to you.',
  backchannel: 'Sign-out notices',
  backchannelYes: 'This service is told when you sign out here or withdraw its access',
  backchannelNo: 'This service is not told (sign out on the service itself too)',
  sharedIdentifier: 'Shared ID',
  sharedIdentifierText:
    'The operator of this sign-in service set this service up to get the same ID for you as every other service set up that way, not a pseudonym of its own: these services can recognise you across services.',
  fingerprint: 'ID check code',
  fingerprintHelp:
    'A short code computed from the ID this service holds for you. If the service shows the same code, it holds the same ID.',
  fingerprintUnknown: 'Cannot be computed (this service is no longer registered)',
  access: 'Access now',
  accessActive: 'Allowed',
  accessSessions: 'Signed in: {n}',
  accessNone: 'Not allowed (the next sign-in asks you again)',
  withdraw: 'Withdraw access of {name}',
  withdrawHelp:
    'Cancels its permission, tokens and sign-ins, and tells the service you signed out. The next sign-in asks for your consent again.',
  certificatesHeading: 'Your card (certificates) on this account',
  certificatesIntro:
    'When your card is renewed, the new certificate stays linked to the same account. Certificate serial numbers are not kept.',
  certificateIssued: 'Issued',
  certificateFirstUsed: 'First used',
  certificateGeneration: 'Issuer (authority generation)',
  certificateActive: 'Can sign in',
  certificateRevoked: 'Revoked: this certificate can no longer sign in',
  certificateExpired: 'Expired: this certificate can no longer sign in',
  actionsHeading: 'Your account',
  export: 'Download your data (JSON)',
  exportHelp: 'Everything kept about this account, as one file.',
  signOutEverywhere: 'Sign out of every service',
  signOutEverywhereHelp: 'Ends every sign-in, and tells the services that receive sign-out notices.',
  deleteAccount: 'Delete account…',
  deleteAccountHelp: 'A confirmation page explains what happens before anything is deleted.',
  signOut: 'Sign out of this page',
  doneWithdrawn: 'The access of {name} was withdrawn.',
  doneSignedOutEverywhere:
    'You were signed out of every service. The services that receive sign-out notices were told.',
  deleteTitle: 'Delete your account?',
  deleteIntro: 'Deleting your account does the following.',
  deleteConsequences: 'What happens',
  deleteConsequenceServices:
    'You are signed out of every service, and the services that receive sign-out notices are told.',
  deleteConsequencePseudonym:
    'The next time you sign in, every service gets a new ID for you. Services will not know you are the same person, and you may lose access to what you kept with them.',
  deleteConsequencePseudonymShared:
    'Except {names}: they get the shared ID set up by the operator, and your new ID still shows it is the same card, so they can recognise your card again after the deletion.',
  deleteConsequenceHistory:
    'Your sign-in history, your permissions and the link between your card and this account are erased.',
  deleteConsequenceEvidence:
    '{name} must keep a record of your identity check until {date}: it stays, encrypted, without any link to you, and is deleted then.',
  deleteConsequenceNoUndo: 'This cannot be undone.',
  deleteConfirm: 'I have read the above and want to delete my account',
  deleteSubmit: 'Delete my account',
  deleteCancel: 'Keep my account',
  deletedTitle: 'Your account was deleted',
  deletedText:
    'Everything linked to this account was erased. Signing in with your card again starts a new account.',
  signedOutTitle: 'You are signed out',
  signedOutText: 'You signed out of the My account page.',
  signInAgain: 'Sign in again',
  errorTitle: 'This could not be done',
  errorCode: 'Error code: {code}',
  backToAccount: 'Back to My account',
  LOGIN_STATE_MISMATCH: 'Please start the sign-in again (it came from another tab or an old link).',
  LOGIN_CODE_INVALID:
    'The sign-in could not be confirmed (it expired or was already used). Please sign in again.',
  LOGIN_NOT_FRESH: 'This page needs a card sign-in made just now. Please sign in again.',
  LOGIN_CANCELLED: 'The sign-in was cancelled.',
  SESSION_EXPIRED:
    'Your sign-in to this page has ended (after 15 minutes, or you signed out). Please sign in again.',
  FORM_REFUSED: 'Requests from other sites or from an old page are not accepted. Please open the page again.',
  FORM_INVALID: 'This request could not be accepted. Please open the page again and retry.',
};

const TEXTS: Record<Locale, Record<AccountTextKeyOrError, string>> = { ja, en };

/** The account-page text of `key` in `locale`. */
export function accountText(locale: Locale, key: AccountTextKeyOrError): string {
  return TEXTS[locale][key];
}
