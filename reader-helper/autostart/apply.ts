/** Picks the autostart plan for an OS and carries its steps out (or only prints them, for --dry-run). */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { launchdPlan } from './launchd.js';
import {
  type AutostartCommand,
  type AutostartContext,
  AutostartError,
  type AutostartPlan,
  type Step,
} from './plan.js';
import { systemdPlan } from './systemd.js';
import { windowsTaskPlan } from './windows-task.js';

/** Runs a program without a shell; resolves with its exit code and output. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
) => Promise<{ code: number; output: string }>;

/** Raised when a required step fails. */
export class AutostartStepError extends Error {
  override name = 'AutostartStepError';
  readonly code = 'AUTOSTART_STEP_FAILED';
}

/** The autostart plan for `context.platform`. */
export function autostartPlan(command: AutostartCommand, context: AutostartContext): AutostartPlan {
  switch (context.platform) {
    case 'linux':
      return systemdPlan(command, context);
    case 'darwin':
      return launchdPlan(command, context);
    case 'win32':
      return windowsTaskPlan(command, context);
    default:
      throw new AutostartError(
        `autostart is not supported on ${context.platform}; start 'myna-helper start' yourself`,
      );
  }
}

/** A one-line description of a step, for output. */
function describeStep(step: Step): string {
  if (step.kind === 'write') return `write ${step.path}`;
  if (step.kind === 'remove') return `remove ${step.path}`;
  return `run ${[step.command, ...step.args].map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`;
}

/** Carries out `steps` in order, reporting each through `report`; with `dryRun`, only reports. */
export async function applySteps(
  steps: readonly Step[],
  options: { run: CommandRunner; dryRun: boolean; report: (line: string) => void },
): Promise<void> {
  for (const step of steps) {
    options.report(`${options.dryRun ? '[dry run] ' : ''}${describeStep(step)}`);
    if (options.dryRun) continue;
    if (step.kind === 'write') {
      await mkdir(dirname(step.path), { recursive: true });
      const bytes =
        step.encoding === 'utf16le'
          ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(step.content, 'utf16le')])
          : step.content;
      await writeFile(step.path, bytes);
    } else if (step.kind === 'remove') {
      await rm(step.path, { force: true });
    } else {
      const { code, output } = await options.run(step.command, step.args);
      if (code !== 0 && !step.allowFailure) {
        throw new AutostartStepError(`${step.command} exited with ${code}: ${output.trim()}`);
      }
    }
  }
}
