/** Linux: a systemd user unit, enabled and started with `systemctl --user`. */
import { join } from 'node:path';
import type { AutostartCommand, AutostartContext, AutostartPlan } from './plan.js';

export const SYSTEMD_UNIT_NAME = 'myna-helper.service';

/** Quotes one ExecStart word: double quotes, backslash escapes, `%` specifiers and `$` variables doubled. */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/**
 * The unit file's text — the one unit both `myna-helper install` and the .deb ship. Hardened for a
 * user service that only needs pcscd's socket (AF_UNIX) and its loopback listener (AF_INET/6).
 * No `After=pcscd.socket`: that is a system unit, which the user manager cannot order against;
 * pcscd is socket-activated, so the helper reaches it whenever it starts.
 */
export function systemdUnit(command: AutostartCommand): string {
  const exec = [command.program, ...command.args].map(systemdQuote).join(' ');
  return `[Unit]
Description=myna-helper: MyNumber card reader helper for web logins

[Service]
Type=simple
ExecStart=${exec}
Restart=on-failure
RestartSec=2
UMask=0077
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

[Install]
WantedBy=default.target
`;
}

/** Install: write the unit, reload, enable and start. Uninstall: disable and stop, remove, reload. */
export function systemdPlan(command: AutostartCommand, context: AutostartContext): AutostartPlan {
  const configHome = context.env.XDG_CONFIG_HOME || join(context.home, '.config');
  const file = join(configHome, 'systemd', 'user', SYSTEMD_UNIT_NAME);
  const systemctl = (...args: string[]) => ({
    kind: 'run' as const,
    command: 'systemctl',
    args: ['--user', ...args],
  });
  return {
    file,
    install: [
      { kind: 'write', path: file, content: systemdUnit(command) },
      systemctl('daemon-reload'),
      systemctl('enable', '--now', SYSTEMD_UNIT_NAME),
    ],
    uninstall: [
      { ...systemctl('disable', '--now', SYSTEMD_UNIT_NAME), allowFailure: true },
      { kind: 'remove', path: file },
      systemctl('daemon-reload'),
    ],
  };
}
