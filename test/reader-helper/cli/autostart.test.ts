import { describe, expect, it } from '@jest/globals';
import { autostartPlan } from '../../../reader-helper/autostart/apply.js';
import { launchAgentPlist } from '../../../reader-helper/autostart/launchd.js';
import type { AutostartCommand, Step } from '../../../reader-helper/autostart/plan.js';
import { systemdQuote, systemdUnit } from '../../../reader-helper/autostart/systemd.js';
import { windowsQuote, windowsTaskXml } from '../../../reader-helper/autostart/windows-task.js';

const runs = (steps: readonly Step[]) =>
  steps.flatMap((step) => (step.kind === 'run' ? [[step.command, ...step.args].join(' ')] : []));

describe('autostart: systemd user unit', () => {
  const command: AutostartCommand = {
    program: '/opt/my node/bin/node',
    args: ['/home/u/My Apps/myna-helper.js', 'start', '--config', '/home/u/50%$HOME"x.json'],
  };

  it('quotes every ExecStart word (spaces, quotes, % and $)', () => {
    expect(systemdQuote('a b')).toBe('"a b"');
    expect(systemdQuote('50%$X"\\')).toBe('"50%%$$X\\"\\\\"');
    const unit = systemdUnit(command);
    expect(unit).toContain(
      'ExecStart="/opt/my node/bin/node" "/home/u/My Apps/myna-helper.js" "start" "--config" "/home/u/50%%$$HOME\\"x.json"',
    );
    expect(unit).toContain('WantedBy=default.target');
    expect(unit).toContain('Restart=on-failure');
  });

  it('is hardened and orders against no system unit', () => {
    const lines = systemdUnit(command).split('\n');
    for (const setting of [
      'UMask=0077',
      'NoNewPrivileges=yes',
      'LockPersonality=yes',
      'RestrictRealtime=yes',
      'RestrictSUIDSGID=yes',
      'SystemCallArchitectures=native',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    ]) {
      expect(lines).toContain(setting);
    }
    expect(lines.filter((line) => /^(After|Requires|Wants)=/.test(line))).toEqual([]);
  });

  it('writes the unit under the user config dir, reloads and enables it; uninstall reverses it', () => {
    const plan = autostartPlan(command, { platform: 'linux', env: {}, home: '/home/u', uid: 1000 });
    expect(plan.file).toBe('/home/u/.config/systemd/user/myna-helper.service');
    expect(plan.install[0]).toMatchObject({ kind: 'write', path: plan.file });
    expect(runs(plan.install)).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now myna-helper.service',
    ]);
    expect(runs(plan.uninstall)).toEqual([
      'systemctl --user disable --now myna-helper.service',
      'systemctl --user daemon-reload',
    ]);
    expect(plan.uninstall).toContainEqual({ kind: 'remove', path: plan.file });
  });
});

describe('autostart: LaunchAgent', () => {
  const command: AutostartCommand = {
    program: '/Users/Jo Smith/.nvm/node',
    args: ['/Users/Jo Smith/Apps & Tools/myna-helper.js', 'start'],
  };

  it('lists each argument as its own XML-escaped string', () => {
    const plist = launchAgentPlist(command, '/Users/Jo Smith/Library/Logs/myna-helper.log');
    expect(plist).toContain('<string>jp.myna-oidc.helper</string>');
    expect(plist).toContain(
      [
        '    <string>/Users/Jo Smith/.nvm/node</string>',
        '    <string>/Users/Jo Smith/Apps &amp; Tools/myna-helper.js</string>',
        '    <string>start</string>',
      ].join('\n'),
    );
    expect(plist).toContain('<key>RunAtLoad</key>\n  <true/>');
  });

  it('bootstraps it into the gui domain of the user', () => {
    const plan = autostartPlan(command, { platform: 'darwin', env: {}, home: '/Users/Jo Smith', uid: 501 });
    expect(plan.file).toBe('/Users/Jo Smith/Library/LaunchAgents/jp.myna-oidc.helper.plist');
    expect(plan.install.filter((step) => step.kind === 'run')).toEqual([
      {
        kind: 'run',
        command: 'launchctl',
        args: ['bootout', 'gui/501/jp.myna-oidc.helper'],
        allowFailure: true,
      },
      { kind: 'run', command: 'launchctl', args: ['bootstrap', 'gui/501', plan.file] },
    ]);
    expect(runs(plan.uninstall)).toEqual([`launchctl bootout gui/501 ${plan.file}`]);
  });
});

describe('autostart: Windows Scheduled Task', () => {
  const command: AutostartCommand = {
    program: 'C:\\Program Files\\nodejs\\node.exe',
    args: [
      'C:\\Users\\Jo Smith\\AppData\\Roaming\\npm\\node_modules\\myna-oidc\\dist\\myna-helper.js',
      'start',
    ],
  };

  it('quotes arguments by the Windows command-line rules', () => {
    expect(windowsQuote('start')).toBe('start');
    expect(windowsQuote('C:\\a b\\')).toBe('"C:\\a b\\\\"');
    expect(windowsQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(windowsQuote('')).toBe('""');
  });

  it('runs the helper at the user logon with the quoted, XML-escaped command', () => {
    const xml = windowsTaskXml(command, 'PC\\Jo & Co');
    expect(xml).toContain('<LogonTrigger>');
    expect(xml).toContain('<UserId>PC\\Jo &amp; Co</UserId>');
    expect(xml).toContain('<Command>&quot;C:\\Program Files\\nodejs\\node.exe&quot;</Command>');
    expect(xml).toContain(
      '<Arguments>&quot;C:\\Users\\Jo Smith\\AppData\\Roaming\\npm\\node_modules\\myna-oidc\\dist\\myna-helper.js&quot; start</Arguments>',
    );
    expect(xml).toContain('<LogonType>InteractiveToken</LogonType>');
  });

  it('creates the task from a UTF-16 XML file with schtasks', () => {
    const plan = autostartPlan(command, {
      platform: 'win32',
      env: { APPDATA: 'C:\\Users\\Jo\\AppData\\Roaming', USERDOMAIN: 'PC', USERNAME: 'Jo' },
      home: 'C:\\Users\\Jo',
      uid: 0,
    });
    const write = plan.install[0];
    expect(write).toMatchObject({ kind: 'write', path: plan.file, encoding: 'utf16le' });
    expect(write?.kind === 'write' && write.content).toContain('<UserId>PC\\Jo</UserId>\r\n');
    expect(runs(plan.install)).toEqual([
      `schtasks /Create /TN myna-helper /XML ${plan.file} /F`,
      'schtasks /Run /TN myna-helper',
    ]);
    expect(runs(plan.uninstall)).toEqual([
      'schtasks /End /TN myna-helper',
      'schtasks /Delete /TN myna-helper /F',
    ]);
  });

  it('refuses other platforms', () => {
    expect(() => autostartPlan(command, { platform: 'aix', env: {}, home: '/', uid: 0 })).toThrow(
      /not supported/,
    );
  });
});
