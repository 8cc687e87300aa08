/** macOS: a LaunchAgent plist, loaded into the user's GUI session with `launchctl bootstrap`. */
import { join } from 'node:path';
import type { AutostartCommand, AutostartContext, AutostartPlan } from './plan.js';
import { escapeXml } from './xml.js';

export const LAUNCH_AGENT_LABEL = 'jp.myna-oidc.helper';

/** The plist's text. Arguments are separate <string>s, so paths with spaces need no quoting. */
export function launchAgentPlist(command: AutostartCommand, logFile: string): string {
  const args = [command.program, ...command.args].map((arg) => `    <string>${escapeXml(arg)}</string>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCH_AGENT_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args.join('\n')}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>StandardErrorPath</key>
  <string>${escapeXml(logFile)}</string>
</dict>
</plist>
`;
}

/** Install: write the plist, unload any previous copy, bootstrap. Uninstall: bootout, remove. */
export function launchdPlan(command: AutostartCommand, context: AutostartContext): AutostartPlan {
  const file = join(context.home, 'Library', 'LaunchAgents', `${LAUNCH_AGENT_LABEL}.plist`);
  const logFile = join(context.home, 'Library', 'Logs', 'myna-helper.log');
  const domain = `gui/${context.uid}`;
  return {
    file,
    install: [
      { kind: 'write', path: file, content: launchAgentPlist(command, logFile) },
      {
        kind: 'run',
        command: 'launchctl',
        args: ['bootout', `${domain}/${LAUNCH_AGENT_LABEL}`],
        allowFailure: true,
      },
      { kind: 'run', command: 'launchctl', args: ['bootstrap', domain, file] },
    ],
    uninstall: [
      { kind: 'run', command: 'launchctl', args: ['bootout', domain, file], allowFailure: true },
      { kind: 'remove', path: file },
    ],
  };
}
