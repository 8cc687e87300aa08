/**
 * The Linux PIN window for real: zenity under a private Xvfb, answered through xdotool as a person
 * would (test/support/pin-dialog-user.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDialogPinEntry } from '../../../reader-helper/pin-entry/dialog-pin-entry.js';
import {
  createPinEntry,
  type DialogWindow,
  type PinEntry,
  PinEntryError,
  type PinRequest,
} from '../../../reader-helper/pin-entry/pin-entry.js';
import { zenityProgram } from '../../../reader-helper/pin-entry/zenity.js';
import { PinDialogUser } from '../../support/pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../../support/xvfb.js';

let display: XDisplay;
let user: PinDialogUser;
let entry: PinEntry;
const windows: DialogWindow[] = [];

beforeAll(async () => {
  display = await startXvfb();
  user = new PinDialogUser(display);
  entry = createPinEntry({ platform: 'linux', env: display.env, onTiming: (window) => windows.push(window) });
});
afterAll(() => display?.stop());

function request(overrides: Partial<PinRequest> = {}): PinRequest {
  return {
    origin: 'https://op.example.jp',
    purpose: 'sign-in',
    secret: 'user-auth-pin',
    triesLeft: 3,
    language: 'ja',
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<PinEntryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PinEntryError)) throw new Error(`expected a PinEntryError, got ${String(error)}`);
  return error;
}

describe('zenity PIN window under Xvfb', () => {
  it('is the zenity entry of this desktop', () => {
    expect(entry.kind).toBe('zenity');
  });

  it('resolves with the PIN typed into the window (ja and en)', async () => {
    for (const language of ['ja', 'en'] as const) {
      windows.length = 0;
      const pin = entry.requestPin(request({ language }));
      await user.enterPin('4821');
      await expect(pin).resolves.toBe('4821');
      expect(windows).toEqual(['pin']);
    }
  });

  it('answers USER_CANCELLED when the person cancels, and the window is gone', async () => {
    const pin = entry.requestPin(request());
    await user.cancel();
    expect((await failureOf(pin)).code).toBe('USER_CANCELLED');
    expect(await user.helperWindows()).toEqual([]);
  });

  it('asks again after a badly formatted PIN, which never leaves the dialog flow', async () => {
    windows.length = 0;
    const pin = entry.requestPin(request({ language: 'en' }));
    await user.enterPin('12a4');
    await user.enterPin('123');
    await user.enterPin('0007');
    await expect(pin).resolves.toBe('0007');
    expect(windows).toEqual(['pin', 'pin', 'pin']);
  });

  it('asks for the signing password with its own format rule', async () => {
    const pin = entry.requestPin(request({ secret: 'signing-password' }));
    await user.enterPin('1234');
    await user.enterPin('ABC123');
    await expect(pin).resolves.toBe('ABC123');
  });

  it('on the last try asks for confirmation first; accepting opens the PIN window', async () => {
    windows.length = 0;
    const pin = entry.requestPin(request({ triesLeft: 1 }));
    await user.acceptLastTry();
    await user.enterPin('1234');
    await expect(pin).resolves.toBe('1234');
    expect(windows).toEqual(['last-try', 'pin']);
  });

  it('on the last try, Enter (the default) declines: USER_CANCELLED and no PIN window', async () => {
    windows.length = 0;
    const pin = entry.requestPin(request({ triesLeft: 1, language: 'en' }));
    await user.declineLastTry();
    expect((await failureOf(pin)).code).toBe('USER_CANCELLED');
    expect(await user.noDialogWithin(500)).toBe(true);
    expect(windows).toEqual(['last-try']);
  });

  it('closes the window when the request is aborted: CANCELLED', async () => {
    const aborter = new AbortController();
    const pin = entry.requestPin(request({ signal: aborter.signal }));
    await waitForWindow();
    aborter.abort();
    expect((await failureOf(pin)).code).toBe('CANCELLED');
    expect(await user.helperWindows()).toEqual([]);
  });

  it('answers TIMEOUT when the signal was aborted by a timeout, and the window is gone', async () => {
    const pin = entry.requestPin(request({ signal: AbortSignal.timeout(1500) }));
    await waitForWindow();
    expect((await failureOf(pin)).code).toBe('TIMEOUT');
    expect(await user.helperWindows()).toEqual([]);
  });

  it('gives up after its own time limit (PIN_ENTRY_TIMEOUT_MS, shortened here): TIMEOUT, window gone', async () => {
    const impatient = createDialogPinEntry(zenityProgram(), { env: display.env, timeoutMs: 1500 });
    const pin = impatient.requestPin(request());
    await waitForWindow();
    expect((await failureOf(pin)).code).toBe('TIMEOUT');
    expect(await user.helperWindows()).toEqual([]);
  });

  it('shows an origin full of quotes, markup, escapes and mnemonics without breaking the dialog', async () => {
    const pin = entry.requestPin(request({ origin: `https://x.example"'$(id)\`id\`<b>&amp;</b>_a\\n%s` }));
    await user.enterPin('2580');
    await expect(pin).resolves.toBe('2580');
  });

  it('closes the last-try window too when aborted', async () => {
    const aborter = new AbortController();
    const pin = entry.requestPin(request({ triesLeft: 1, signal: aborter.signal }));
    await waitForWindow();
    aborter.abort();
    expect((await failureOf(pin)).code).toBe('CANCELLED');
    expect(await user.helperWindows()).toEqual([]);
  });

  it('shows a PIN-pad notice that reports the Cancel button and can be closed', async () => {
    const notice = entry.showPinPadNotice(request());
    await user.cancel();
    await expect(notice.cancelled).resolves.toBeUndefined();

    const closed = entry.showPinPadNotice(request({ language: 'en' }));
    let cancelled = false;
    void closed.cancelled.then(() => {
      cancelled = true;
    });
    await waitForWindow();
    closed.close();
    await waitForNoWindow();
    expect(cancelled).toBe(false);
  });
});

describe('PIN window without a desktop', () => {
  it('answers PIN_ENTRY_UNAVAILABLE, saying what to do, when neither DISPLAY nor WAYLAND_DISPLAY is set', async () => {
    const env = { ...display.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const headless = createPinEntry({ platform: 'linux', env });
    const error = await failureOf(headless.requestPin(request()));
    expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
    expect(error.message).toMatch(/DISPLAY.*desktop session/s);
  });

  it('answers PIN_ENTRY_UNAVAILABLE, naming the package, when no dialog program is on PATH', async () => {
    const bare = createPinEntry({ platform: 'linux', env: { ...display.env, PATH: '/nonexistent' } });
    expect(bare.kind).toBe('none');
    const error = await failureOf(bare.requestPin(request()));
    expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
    expect(error.message).toContain('apt install zenity');
  });

  it('answers PIN_ENTRY_UNAVAILABLE when the display cannot be opened', async () => {
    const broken = createPinEntry({ platform: 'linux', env: { ...display.env, DISPLAY: ':65000' } });
    const error = await failureOf(broken.requestPin(request()));
    expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
  });
});

async function waitForWindow(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await user.helperWindows()).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no helper window appeared');
}

async function waitForNoWindow(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await user.helperWindows()).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the helper window stayed open');
}
