/**
 * Windows: a Scheduled Task that starts the helper at the user's logon, created from an XML
 * definition with `schtasks /Create /XML` (the file is UTF-16 with a byte-order mark, as
 * schtasks expects).
 */
import { join } from 'node:path';
import { configDirectory } from '../config.js';
import type { AutostartCommand, AutostartContext, AutostartPlan } from './plan.js';
import { escapeXml } from './xml.js';

export const TASK_NAME = 'myna-helper';

/**
 * Quotes one argument for the Windows command line (CommandLineToArgvW rules): wrapped in double
 * quotes, embedded quotes escaped, backslashes doubled where they precede a quote.
 */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  const escaped = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1');
  return `"${escaped}"`;
}

/** The task definition's XML text. */
export function windowsTaskXml(command: AutostartCommand, userId: string): string {
  const user = escapeXml(userId);
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>myna-helper: MyNumber card reader helper for web logins</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>${user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${escapeXml(windowsQuote(command.program))}</Command>
      <Arguments>${escapeXml(command.args.map(windowsQuote).join(' '))}</Arguments>
    </Exec>
  </Actions>
</Task>
`;
}

/** Install: write the XML, create (replace) the task, run it now. Uninstall: stop, delete, remove the XML. */
export function windowsTaskPlan(command: AutostartCommand, context: AutostartContext): AutostartPlan {
  const file = join(configDirectory(context), 'myna-helper-task.xml');
  const { USERDOMAIN, USERNAME } = context.env;
  const userId = USERDOMAIN ? `${USERDOMAIN}\\${USERNAME ?? ''}` : (USERNAME ?? '');
  return {
    file,
    install: [
      {
        kind: 'write',
        path: file,
        content: windowsTaskXml(command, userId).replace(/\n/g, '\r\n'),
        encoding: 'utf16le',
      },
      { kind: 'run', command: 'schtasks', args: ['/Create', '/TN', TASK_NAME, '/XML', file, '/F'] },
      { kind: 'run', command: 'schtasks', args: ['/Run', '/TN', TASK_NAME] },
    ],
    uninstall: [
      { kind: 'run', command: 'schtasks', args: ['/End', '/TN', TASK_NAME], allowFailure: true },
      { kind: 'run', command: 'schtasks', args: ['/Delete', '/TN', TASK_NAME, '/F'] },
      { kind: 'remove', path: file },
    ],
  };
}
