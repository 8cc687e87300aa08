/**
 * The Linux PIN window for real: zenity under a private Xvfb, answered through xdotool as a person
 * would (test/support/pin-dialog-user.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CommandRunner, fixedSession } from '../../../reader-helper/pin-entry/desktop-session.js';
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

  it('confirms the last try on its own (PIN-pad readers): Continue resolves and opens no PIN window', async () => {
    windows.length = 0;
    const confirmed = entry.confirmLastTry(request({ triesLeft: 1 }));
    await user.acceptLastTry();
    await expect(confirmed).resolves.toBeUndefined();
    expect(await user.noDialogWithin(500)).toBe(true);
    expect(windows).toEqual(['last-try']);
  });

  it('confirms the last try on its own: Enter (the default) declines with USER_CANCELLED', async () => {
    const confirmed = entry.confirmLastTry(request({ triesLeft: 1, language: 'en' }));
    await user.declineLastTry();
    expect((await failureOf(confirmed)).code).toBe('USER_CANCELLED');
    expect(await user.helperWindows()).toEqual([]);
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
    const impatient = createDialogPinEntry(zenityProgram(), {
      session: fixedSession(display.env),
      timeoutMs: 1500,
    });
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

/** The helper's environment as the systemd user unit starts it before the desktop session: no display. */
function headlessEnv(): NodeJS.ProcessEnv {
  const env = { ...display.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.XAUTHORITY;
  return env;
}

/** A user manager that answers `systemctl --user show-environment` with `stdout` (or fails), recording each call. */
function userManager(stdout: string | Error): { readonly run: CommandRunner; readonly calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (file, args) => {
      calls.push([file, ...args]);
      if (stdout instanceof Error) throw stdout;
      return stdout;
    },
  };
}

describe('PIN window of a helper started before the desktop session', () => {
  it('finds the display in the user manager at dialog time and shows the window there', async () => {
    const manager = userManager(
      `HOME=/home/someone\nDISPLAY=${display.display}\nXDG_RUNTIME_DIR=/run/user/1000\nLANG=ja_JP.UTF-8\n`,
    );
    const late = createPinEntry({ platform: 'linux', env: headlessEnv(), runCommand: manager.run });
    expect(late.kind).toBe('zenity');
    expect(late.unavailable?.()).toMatch(/neither DISPLAY nor WAYLAND_DISPLAY/);
    expect(manager.calls).toEqual([]);
    const pin = late.requestPin(request());
    await user.enterPin('3141');
    await expect(pin).resolves.toBe('3141');
    expect(manager.calls).toEqual([['systemctl', '--user', 'show-environment']]);
    expect(late.unavailable?.()).toBeUndefined();
  });

  it('looks again at each window: a session that ended makes the next window PIN_ENTRY_UNAVAILABLE', async () => {
    let answer = `DISPLAY=${display.display}\n`;
    const calls: string[][] = [];
    const late = createPinEntry({
      platform: 'linux',
      env: headlessEnv(),
      runCommand: async (file, args) => {
        calls.push([file, ...args]);
        return answer;
      },
    });
    const first = late.confirmLastTry(request({ triesLeft: 1 }));
    await user.acceptLastTry();
    await first;
    answer = 'XDG_RUNTIME_DIR=/run/user/1000\n';
    const error = await failureOf(late.requestPin(request()));
    expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
    expect(calls).toHaveLength(2);
    expect(late.unavailable?.()).toMatch(/neither DISPLAY nor WAYLAND_DISPLAY/);
  });

  it('never asks the user manager when the environment names a display', async () => {
    const manager = userManager('DISPLAY=:4242\n');
    const direct = createPinEntry({ platform: 'linux', env: display.env, runCommand: manager.run });
    const pin = direct.requestPin(request());
    await user.enterPin('2718');
    await expect(pin).resolves.toBe('2718');
    expect(manager.calls).toEqual([]);
  });
});

describe('PIN window without a desktop', () => {
  it.each([
    ['names no display', 'XDG_RUNTIME_DIR=/run/user/1000\nHOME=/home/someone\n'],
    ['is not there (no systemd, no session bus)', new Error('Failed to connect to bus: No medium found')],
  ])(
    'answers PIN_ENTRY_UNAVAILABLE, saying what to do, when neither the environment nor the user manager (which %s) names a display',
    async (_, answer) => {
      const manager = userManager(answer);
      const headless = createPinEntry({ platform: 'linux', env: headlessEnv(), runCommand: manager.run });
      const error = await failureOf(headless.requestPin(request()));
      expect(error.code).toBe('PIN_ENTRY_UNAVAILABLE');
      expect(error.message).toMatch(/DISPLAY.*desktop/s);
      expect(error.message).toContain('systemctl --user import-environment');
      expect(manager.calls).toEqual([['systemctl', '--user', 'show-environment']]);
      expect(await user.noDialogWithin(300)).toBe(true);
    },
  );

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
