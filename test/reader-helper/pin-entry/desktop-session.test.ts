/**
 * The desktop session the PIN windows appear in, for a helper the systemd user unit started
 * before the desktop: `systemctl --user show-environment` parsed, and what the dialogs then get.
 * The user manager is a fake here: a test must never read the machine's own manager.
 */
import { describe, expect, it } from '@jest/globals';
import {
  type CommandRunner,
  linuxDesktopSession,
  parseShowEnvironment,
} from '../../../reader-helper/pin-entry/desktop-session.js';
import { PinEntryError } from '../../../reader-helper/pin-entry/pin-entry.js';

describe('parseShowEnvironment', () => {
  it('reads plain assignments, one per line', () => {
    const variables = parseShowEnvironment(
      'DISPLAY=:0\nXAUTHORITY=/run/user/1000/.mutter-Xwaylandauth.7ZK1X2\nDBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus\nEMPTY=\n',
    );
    expect(Object.fromEntries(variables)).toEqual({
      DISPLAY: ':0',
      XAUTHORITY: '/run/user/1000/.mutter-Xwaylandauth.7ZK1X2',
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
      EMPTY: '',
    });
  });

  it("decodes systemd's $'…' quoting (whitespace, quotes, backslashes, tabs, newlines, octal and hex bytes)", () => {
    const variables = parseShowEnvironment(
      [
        "XAUTHORITY=$'/home/a b/.Xauthority'",
        "QUOTED=$'it\\'s \"fine\" $HOME `x`'",
        "BACKSLASH=$'C:\\\\dir'",
        "CONTROL=$'a\\tb\\nc'",
        "BYTES=$'caf\\303\\251 \\x41'",
      ].join('\n'),
    );
    expect(Object.fromEntries(variables)).toEqual({
      XAUTHORITY: '/home/a b/.Xauthority',
      QUOTED: 'it\'s "fine" $HOME `x`',
      BACKSLASH: 'C:\\dir',
      CONTROL: 'a\tb\nc',
      BYTES: 'café A',
    });
  });

  it('skips lines that are not assignments and bodies that are not well quoted', () => {
    const variables = parseShowEnvironment(
      "Failed to connect to bus\n=x\n1X=y\nBROKEN=$'a'b'\nTRAILING=$'a\\'\nDISPLAY=:1\n\n",
    );
    expect([...variables.keys()]).toEqual(['DISPLAY']);
    expect(variables.get('DISPLAY')).toBe(':1');
  });
});

/** A fake user manager answering `stdout` (or failing), recording what it was run with. */
function manager(stdout: string | Error) {
  const calls: { file: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
  const run: CommandRunner = async (file, args, options) => {
    calls.push({ file, args, env: options.env });
    if (stdout instanceof Error) throw stdout;
    return stdout;
  };
  return { run, calls };
}

describe('linuxDesktopSession', () => {
  const unitEnv = { PATH: '/usr/bin', HOME: '/home/someone', XDG_RUNTIME_DIR: '/run/user/1000' };

  it('uses the environment as it is when it names a display, without asking the user manager', async () => {
    for (const env of [
      { ...unitEnv, DISPLAY: ':0' },
      { ...unitEnv, WAYLAND_DISPLAY: 'wayland-0' },
    ]) {
      const fake = manager('DISPLAY=:9\n');
      const session = linuxDesktopSession(env, fake.run);
      await expect(session.environment()).resolves.toEqual(env);
      expect(session.unavailable()).toBeUndefined();
      expect(fake.calls).toEqual([]);
    }
  });

  it("takes the desktop's variables from the user manager, which win over the helper's own", async () => {
    const fake = manager(
      [
        'DISPLAY=:0',
        'WAYLAND_DISPLAY=wayland-0',
        'XAUTHORITY=/run/user/1000/.mutter-Xwaylandauth.7ZK1X2',
        'XDG_RUNTIME_DIR=/run/user/1000',
        'DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus',
        'PATH=/manager/bin',
        'LD_PRELOAD=/tmp/evil.so',
      ].join('\n'),
    );
    const session = linuxDesktopSession(
      { ...unitEnv, XAUTHORITY: '/home/someone/.Xauthority-old' },
      fake.run,
    );
    expect(session.unavailable()).toMatch(/neither DISPLAY nor WAYLAND_DISPLAY is set/);
    expect(await session.environment()).toEqual({
      ...unitEnv,
      DISPLAY: ':0',
      WAYLAND_DISPLAY: 'wayland-0',
      XAUTHORITY: '/run/user/1000/.mutter-Xwaylandauth.7ZK1X2',
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
    });
    expect(session.unavailable()).toBeUndefined();
    expect(fake.calls).toEqual([
      {
        file: 'systemctl',
        args: ['--user', 'show-environment'],
        env: { ...unitEnv, XAUTHORITY: '/home/someone/.Xauthority-old' },
      },
    ]);
  });

  it.each([
    ['names no display', 'XDG_RUNTIME_DIR=/run/user/1000\nLANG=C.UTF-8\n'],
    ['cannot be reached', new Error('Failed to connect to bus: No medium found')],
  ])(
    'answers PIN_ENTRY_UNAVAILABLE when the user manager %s, and asks again next time',
    async (_, answer) => {
      const fake = manager(answer);
      const session = linuxDesktopSession(unitEnv, fake.run);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const error = await session.environment().then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(PinEntryError);
        expect(error).toMatchObject({ code: 'PIN_ENTRY_UNAVAILABLE' });
        expect((error as Error).message).toContain('systemctl --user show-environment');
        expect(fake.calls).toHaveLength(attempt);
      }
      expect(session.unavailable()).toMatch(/desktop/);
    },
  );
});
