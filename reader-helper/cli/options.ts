/** The configuration options shared by `start`, `status` and `install`, and how they become a HelperConfig. */

import type { AutostartContext } from '../autostart/plan.js';
import { defaultConfigPath, type HelperConfig, readConfigFile, resolveHelperConfig } from '../config.js';
import { UsageError } from './io.js';

/** parseArgs option declarations for the configuration flags. */
export const configOptions = {
  config: { type: 'string' },
  port: { type: 'string' },
  'allow-origin': { type: 'string', multiple: true, default: [] as string[] },
  dev: { type: 'boolean', default: false },
} as const;

export const configUsage = `  --config <file>      configuration file (default: the OS-conventional path, see README)
  --port <n>           port on 127.0.0.1 and ::1 (default 47123)
  --allow-origin <url> allow this https origin (repeatable; adds to the file's allowedOrigins);
                       http only as http://localhost:<port> etc., one by one, with a warning
  --dev                with --virtual-card only: also allow every http://localhost:* page`;

/** The configuration flags as parsed. */
export interface ConfigValues {
  readonly config?: string | undefined;
  readonly port?: string | undefined;
  readonly 'allow-origin'?: string[] | undefined;
  readonly dev?: boolean | undefined;
}

/** Reads the configuration file (given or default) and merges the flags into a validated config. */
export async function loadHelperConfig(
  values: ConfigValues,
  context: AutostartContext,
): Promise<HelperConfig> {
  const file = await readConfigFile(values.config ?? defaultConfigPath(context), values.config !== undefined);
  const port = values.port === undefined ? undefined : parsePort(values.port);
  return resolveHelperConfig(file, { port, allowOrigins: values['allow-origin'], dev: values.dev });
}

function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text))
    throw new UsageError(`--port must be a number from 0 to 65535, not ${text}`);
  return Number(text);
}
