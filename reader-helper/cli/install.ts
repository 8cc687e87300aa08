/** `myna-helper install` / `uninstall`: autostart of `myna-helper start` at the user's logon. */
import { parseArgs } from 'node:util';
import { applySteps, autostartPlan } from '../autostart/apply.js';
import type { HelperCliDeps } from './deps.js';
import { type CliIo, ExitCode } from './io.js';

export const installUsage = `Usage: myna-helper install [--config <file>] [--dry-run]
       myna-helper uninstall [--dry-run]

install    writes and enables an autostart entry that runs 'myna-helper start' at logon:
           Linux: systemd user unit (~/.config/systemd/user/myna-helper.service)
           macOS: LaunchAgent (~/Library/LaunchAgents/jp.myna-oidc.helper.plist)
           Windows: Scheduled Task 'myna-helper' at logon
           The helper then reads its configuration file (or the --config given here).
uninstall  stops and removes it.
  --dry-run  print what would be written and run, and the file's content; change nothing`;

/** Runs `install` (`uninstall` when `remove`). */
export async function installCommand(
  args: string[],
  io: CliIo,
  deps: HelperCliDeps,
  remove: boolean,
): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { config: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
  });
  const startArgs = values.config === undefined ? ['start'] : ['start', '--config', values.config];
  const plan = autostartPlan(
    { program: deps.launcher.program, args: [...deps.launcher.args, ...startArgs] },
    deps.context,
  );
  const dryRun = values['dry-run'];
  const steps = remove ? plan.uninstall : plan.install;
  await applySteps(steps, { run: deps.runCommand, dryRun, report: io.out });
  if (dryRun && !remove) {
    const write = steps.find((step) => step.kind === 'write');
    if (write?.kind === 'write') io.out(`\n${write.content}`);
  }
  const done = remove ? 'removed' : 'installed';
  io.out(dryRun ? `Dry run: nothing changed (${plan.file}).` : `Autostart ${done} (${plan.file}).`);
  return ExitCode.OK;
}
