/**
 * The exact commands each dialog program runs (the macOS and Windows ones cannot run here), and
 * that texts an attacker controls (the origin) reach them as data only: never in a script, never
 * interpreted as markup, mnemonics, escapes or shell syntax.
 */
import { describe, expect, it } from '@jest/globals';
import { kdialogProgram, literalKdialogText } from '../../../reader-helper/pin-entry/kdialog.js';
import {
  OSASCRIPT,
  OSASCRIPT_SCRIPTS,
  osascriptProgram,
} from '../../../reader-helper/pin-entry/osascript.js';
import { createPinEntry, type PinRequest } from '../../../reader-helper/pin-entry/pin-entry.js';
import {
  POWERSHELL_ENCODED_SCRIPT,
  POWERSHELL_SCRIPT,
  powershellProgram,
  windowsPowerShellPath,
} from '../../../reader-helper/pin-entry/powershell.js';
import {
  lastTryWindowTexts,
  pinPadNoticeTexts,
  pinWindowTexts,
} from '../../../reader-helper/pin-entry/texts.js';
import { yadProgram } from '../../../reader-helper/pin-entry/yad.js';
import { literalEntryText, zenityProgram } from '../../../reader-helper/pin-entry/zenity.js';

/** Quotes, newline, command substitution, backticks, markup, mnemonic and escape characters. */
const HOSTILE_ORIGIN = `https://evil.example"'; $(touch /tmp/pwned) \`id\` <b>&amp;</b> _x \\n %s {}\nsecond line`;

function request(overrides: Partial<PinRequest> = {}): PinRequest {
  return {
    origin: HOSTILE_ORIGIN,
    purpose: 'sign-in',
    secret: 'user-auth-pin',
    triesLeft: 2,
    language: 'en',
    signal: new AbortController().signal,
    ...overrides,
  };
}

const pinTexts = pinWindowTexts(request(), false);
const lastTryTexts = lastTryWindowTexts(request({ triesLeft: 1 }));
const noticeTexts = pinPadNoticeTexts(request());

describe('window texts', () => {
  it('say which site asks, what for and the tries left, in both languages', () => {
    expect(pinWindowTexts(request({ origin: 'https://op.example.jp' }), false).text).toBe(
      'Signing in at: https://op.example.jp\n\nEnter the 4-digit PIN of the user-authentication certificate of your MyNumber card.\nTries left: 2 (at 0 the card locks it)',
    );
    const ja = pinWindowTexts(
      request({ origin: 'https://op.example.jp', language: 'ja', purpose: 'verify-identity' }),
      false,
    );
    expect(ja.title).toBe('カード読み取りアプリ：マイナンバーカードの暗証番号');
    expect(ja.text).toContain('本人確認の依頼元: https://op.example.jp');
    expect(ja.text).toContain('残り回数: 2回');
  });

  it('for an identity verification ask for the signing password and say what the site will read', () => {
    const identity = {
      origin: 'https://op.example.jp',
      purpose: 'verify-identity',
      secret: 'signing-password',
    } as const;
    expect(pinWindowTexts(request({ ...identity, triesLeft: 5 }), false).text).toBe(
      [
        'Identity verification for: https://op.example.jp',
        'Your signing certificate holds your name, address, date of birth and gender; the sign-in service of this site will read them (you choose what goes to the site on its next page).',
        '',
        'Enter the signing-certificate password (6 to 16 uppercase letters and digits) of your MyNumber card.',
        'Tries left: 5 (at 0 the card locks it)',
      ].join('\n'),
    );
    const ja = pinWindowTexts(request({ ...identity, language: 'ja' }), false).text;
    expect(ja).toContain('本人確認の依頼元: https://op.example.jp');
    expect(ja).toContain('氏名・住所・生年月日・性別');
    expect(ja).toContain('サインインサービスがそれを読み取ります');
    expect(ja).toContain('署名用電子証明書のパスワード（英大文字と数字 6〜16文字）を入力してください。');
    const lastTry = lastTryWindowTexts(request({ ...identity, language: 'ja', triesLeft: 1 })).text;
    expect(lastTry).toContain('氏名・住所・生年月日・性別');
    expect(lastTry).toContain('パスワードが確かなときだけ「続ける」を押してください。');
    expect(lastTryWindowTexts(request({ ...identity, triesLeft: 1 })).text).toContain(
      'name, address, date of birth and gender',
    );
    // A sign-in window names none of the facts.
    expect(pinTexts.text).not.toContain('date of birth');
  });

  it('explain a badly formatted PIN first, in the product words, and that no try was used', () => {
    expect(pinWindowTexts(request(), true).text.split('\n')[0]).toBe(
      'The PIN is 4 digits (0–9). It was not sent to the card, so no try was used.',
    );
    expect(pinWindowTexts(request({ language: 'ja', secret: 'signing-password' }), true).text).toMatch(
      /^パスワードは英大文字（A〜Z）と数字（0〜9）の6〜16文字です。/,
    );
  });

  it('carry the origin verbatim', () => {
    for (const texts of [pinTexts, lastTryTexts, noticeTexts]) expect(texts.text).toContain(HOSTILE_ORIGIN);
  });
});

describe('zenity', () => {
  const zenity = zenityProgram('/usr/bin/zenity');

  it('runs a hidden-text entry whose text is doubled for g_strcompress and mnemonics', () => {
    const command = zenity.pinDialog(pinTexts);
    expect(command.file).toBe('/usr/bin/zenity');
    expect(command.args).toEqual([
      '--entry',
      '--hide-text',
      '--title',
      'Card helper: MyNumber card PIN',
      '--width',
      '420',
      '--modal',
      '--text',
      literalEntryText(pinTexts.text),
      '--ok-label',
      'OK',
      '--cancel-label',
      'Cancel',
    ]);
    expect(literalEntryText('a_b\\n')).toBe('a__b\\\\n');
    expect(command.env).toEqual({ NO_AT_BRIDGE: '1' });
  });

  it('asks before the last try with Cancel as the default and no markup', () => {
    expect(zenity.confirmDialog(lastTryTexts).args).toEqual([
      '--question',
      '--default-cancel',
      '--no-markup',
      '--icon-name',
      'dialog-warning',
      '--title',
      'Card helper: last PIN try',
      '--width',
      '420',
      '--modal',
      '--text',
      lastTryTexts.text,
      '--ok-label',
      '_Continue',
      '--cancel-label',
      'Cancel',
    ]);
  });

  it('shows the PIN-pad notice with a single Cancel button and no markup', () => {
    expect(zenity.noticeDialog(noticeTexts).args).toEqual([
      '--info',
      '--no-markup',
      '--title',
      'Card helper: PIN on the reader',
      '--width',
      '420',
      '--modal',
      '--text',
      noticeTexts.text,
      '--ok-label',
      'Cancel',
    ]);
  });

  it('tells Cancel (exit 1) from a display that cannot be opened (also exit 1)', () => {
    const { outcome } = zenity.pinDialog(pinTexts);
    expect(outcome(0, '')).toBe('accepted');
    expect(outcome(1, '')).toBe('declined');
    expect(outcome(1, 'Gtk-WARNING **: cannot open display: :9')).toBe('failed');
    expect(outcome(255, '')).toBe('failed');
  });
});

describe('kdialog', () => {
  const kdialog = kdialogProgram('/usr/bin/kdialog');

  it('shows texts as escaped rich text, so nothing in them is markup or an escape', () => {
    expect(literalKdialogText('<b>&</b> \\n "x"\nnext')).toBe(
      '<qt>&lt;b&gt;&amp;&lt;/b&gt; \\\\n &quot;x&quot;<br>next</qt>',
    );
    expect(kdialog.pinDialog(pinTexts).args).toEqual([
      '--title',
      'Card helper: MyNumber card PIN',
      '--password',
      literalKdialogText(pinTexts.text),
    ]);
  });

  it('puts Cancel on the default (Yes) button of the last-try question; only No (Continue) accepts', () => {
    const command = kdialog.confirmDialog(lastTryTexts);
    expect(command.args).toEqual([
      '--title',
      'Card helper: last PIN try',
      '--warningyesno',
      literalKdialogText(lastTryTexts.text),
      '--yes-label',
      'Cancel',
      '--no-label',
      '&Continue',
    ]);
    expect([0, 1, 2, 254].map((code) => command.outcome(code, ''))).toEqual([
      'declined',
      'accepted',
      'declined',
      'failed',
    ]);
  });
});

describe('yad', () => {
  const yad = yadProgram('/usr/bin/yad');

  it('runs a hidden entry with no markup, Cancel first, and backslashes doubled', () => {
    expect(yad.pinDialog(pinTexts).args).toEqual([
      '--entry',
      '--hide-text',
      '--title',
      'Card helper: MyNumber card PIN',
      '--text',
      pinTexts.text.replace(/\\/g, '\\\\'),
      '--no-markup',
      '--width',
      '420',
      '--center',
      '--on-top',
      '--button=Cancel:1',
      '--button=OK:0',
    ]);
    expect(yad.confirmDialog(lastTryTexts).args.slice(-2)).toEqual([
      '--button=Cancel:1',
      '--button=_Continue:0',
    ]);
  });
});

describe('osascript (macOS)', () => {
  const osascript = osascriptProgram();

  it('runs constant scripts and passes every text as an argument to `on run argv`', () => {
    const command = osascript.pinDialog(pinTexts);
    expect(command.file).toBe(OSASCRIPT);
    expect(command.args).toEqual([
      '-e',
      'on run argv',
      '-e',
      'set {theTitle, theText, okLabel, cancelLabel} to argv',
      '-e',
      'activate',
      '-e',
      'set answer to display dialog theText with title theTitle default answer "" with hidden answer buttons {cancelLabel, okLabel} default button okLabel cancel button cancelLabel with icon note',
      '-e',
      'return text returned of answer',
      '-e',
      'end run',
      'Card helper: MyNumber card PIN',
      pinTexts.text,
      'OK',
      'Cancel',
    ]);
    expect(osascript.confirmDialog(lastTryTexts).args.slice(-4)).toEqual([
      'Card helper: last PIN try',
      lastTryTexts.text,
      'Continue',
      'Cancel',
    ]);
    expect(osascript.noticeDialog(noticeTexts).args.slice(-3)).toEqual([
      'Card helper: PIN on the reader',
      noticeTexts.text,
      'Cancel',
    ]);
  });

  it('never puts a text into the script, whatever the origin', () => {
    const calm = osascriptProgram().pinDialog(
      pinWindowTexts(request({ origin: 'https://op.example.jp' }), false),
    );
    const scriptOf = (args: readonly string[]) => args.filter((_, i) => args[i - 1] === '-e');
    expect(scriptOf(osascript.pinDialog(pinTexts).args)).toEqual(scriptOf(calm.args));
    expect(scriptOf(calm.args)).toEqual([...OSASCRIPT_SCRIPTS.pin]);
    expect(OSASCRIPT_SCRIPTS.confirm.join('\n')).toContain('default button cancelLabel');
  });

  it('tells Cancel (error -128) from a failure', () => {
    const { outcome } = osascript.pinDialog(pinTexts);
    expect(outcome(0, '')).toBe('accepted');
    expect(outcome(1, '0:93: execution error: User canceled. (-128)')).toBe('declined');
    expect(outcome(1, 'execution error: Not authorized (-1743)')).toBe('failed');
  });
});

describe('PowerShell (Windows)', () => {
  const file = windowsPowerShellPath({ SystemRoot: 'C:\\Windows' });
  const powershell = powershellProgram(file);

  it('runs one constant script with -EncodedCommand and passes the texts in environment variables', () => {
    const command = powershell.pinDialog(pinTexts);
    expect(command.file).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(command.args).toEqual([
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-STA',
      '-EncodedCommand',
      POWERSHELL_ENCODED_SCRIPT,
    ]);
    expect(Buffer.from(POWERSHELL_ENCODED_SCRIPT, 'base64').toString('utf16le')).toBe(POWERSHELL_SCRIPT);
    expect(command.env).toEqual({
      MYNA_DIALOG_MODE: 'pin',
      MYNA_DIALOG_TITLE: 'Card helper: MyNumber card PIN',
      MYNA_DIALOG_TEXT: pinTexts.text,
      MYNA_DIALOG_OK: 'OK',
      MYNA_DIALOG_CANCEL: 'Cancel',
    });
    expect(powershell.confirmDialog(lastTryTexts).env).toMatchObject({
      MYNA_DIALOG_MODE: 'confirm',
      MYNA_DIALOG_OK: '&Continue',
    });
    expect(powershell.noticeDialog(noticeTexts).env).toMatchObject({ MYNA_DIALOG_MODE: 'notice' });
  });

  it('is the same command for any origin; the script reads texts only as plain strings', () => {
    const calm = powershell.pinDialog(pinWindowTexts(request({ origin: 'https://op.example.jp' }), false));
    expect(powershell.pinDialog(pinTexts).args).toEqual(calm.args);
    expect(POWERSHELL_SCRIPT).toContain('$label.UseMnemonic = $false');
    expect(POWERSHELL_SCRIPT).toContain('$label.Text = $env:MYNA_DIALOG_TEXT');
    expect(POWERSHELL_SCRIPT).not.toMatch(/Invoke-Expression|iex |ExpandString|\[scriptblock\]/i);
    // Confirmation: Cancel is both the Enter and the Escape button.
    expect(POWERSHELL_SCRIPT).toContain('$form.AcceptButton = $cancel');
    expect(POWERSHELL_SCRIPT).toContain('$form.CancelButton = $cancel');
  });
});

describe('createPinEntry', () => {
  it('uses PowerShell on Windows and osascript on macOS', () => {
    expect(createPinEntry({ platform: 'win32', env: {} }).kind).toBe('powershell');
    expect(createPinEntry({ platform: 'darwin', env: {} }).kind).toBe('osascript');
  });
});

describe('PIN-pad notice', () => {
  it('warns before the last try too (the keypad path has no confirmation window)', () => {
    expect(pinPadNoticeTexts(request({ triesLeft: 1 })).text.split('\n')[0]).toBe(
      'This is the last try. One more wrong entry locks the certificate, and only your municipal office can unlock it.',
    );
    expect(pinPadNoticeTexts(request({ triesLeft: 2 })).text).not.toContain('last try');
  });

  it('after a cancel, asks for the Cancel key of the reader’s keypad (the reader still waits), in both languages', () => {
    const site = { origin: 'https://op.example.jp', triesLeft: 1 };
    const en = pinPadNoticeTexts(request(site), true);
    expect(en.text.split('\n')[0]).toBe(
      "The sign-in was cancelled, but the card reader is still waiting for the PIN. Press Cancel on the reader's keypad.",
    );
    expect(en.text).toContain('https://op.example.jp');
    expect(en.text).not.toContain('last try');
    expect(en.title).toBe(pinPadNoticeTexts(request(site)).title);
    const ja = pinPadNoticeTexts(request({ ...site, language: 'ja' }), true);
    expect(ja.text.split('\n')[0]).toContain('キーパッドの取消（Cancel）キーを押してください');
  });
});
