/**
 * The helper's configuration: a JSON file at the OS-conventional path (`allowedOrigins`, `port`)
 * merged with command-line flags, validated with messages a user can act on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_HELPER_PORT } from '../protocol/helper-protocol.js';
import { normalizeOrigin } from '../protocol/signed-data.js';
import { isLoopbackHttpOrigin } from './daemon/origin-policy.js';

/** Raised for a configuration that cannot be used. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly code: 'CONFIG_UNREADABLE' | 'CONFIG_INVALID',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** What the configuration file may hold. */
export interface ConfigFile {
  readonly allowedOrigins?: readonly string[];
  readonly port?: number;
}

/** Settings given on the command line; they win over (port) or add to (origins) the file. */
export interface ConfigFlags {
  readonly port?: number;
  readonly allowOrigins?: readonly string[];
  readonly dev?: boolean;
}

/** The helper's effective settings. */
export interface HelperConfig {
  /** 0 picks a free port (tests); users keep the documented default. */
  readonly port: number;
  /** Exact serialized origins allowed to connect (https, or http on a loopback host, each listed). */
  readonly allowedOrigins: readonly string[];
  /** Development mode (virtual card only): also allows every http origin on a loopback host. */
  readonly dev: boolean;
}

/** Where the helper and the environment it runs in live; injected by tests. */
export interface PlatformEnv {
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
}

/** The directory holding the helper's configuration (and the Windows task definition). */
export function configDirectory({ platform, env, home }: PlatformEnv): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'myna-helper');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'myna-helper');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'myna-helper');
}

/** The default configuration file path for this OS. */
export function defaultConfigPath(platform: PlatformEnv): string {
  return join(configDirectory(platform), 'config.json');
}

/**
 * Reads and checks the configuration file. A missing file is an empty configuration unless
 * `required` (the user named it with --config).
 */
export async function readConfigFile(path: string, required: boolean): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new ConfigError('CONFIG_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return checkConfigFile(parsed, path);
}

function checkConfigFile(value: unknown, path: string): ConfigFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('CONFIG_INVALID', `${path} must hold a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => key !== 'allowedOrigins' && key !== 'port');
  if (unknown.length > 0) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${path}: unknown setting(s) ${unknown.join(', ')} (known: allowedOrigins, port)`,
    );
  }
  const { allowedOrigins, port } = record;
  if (
    allowedOrigins !== undefined &&
    !(Array.isArray(allowedOrigins) && allowedOrigins.every((item) => typeof item === 'string'))
  ) {
    throw new ConfigError('CONFIG_INVALID', `${path}: allowedOrigins must be an array of strings`);
  }
  if (port !== undefined && typeof port !== 'number') {
    throw new ConfigError('CONFIG_INVALID', `${path}: port must be a number`);
  }
  return { allowedOrigins, port };
}

/** Merges file and flags and validates the result (port range, every origin). */
export function resolveHelperConfig(file: ConfigFile, flags: ConfigFlags): HelperConfig {
  const dev = flags.dev ?? false;
  const port = flags.port ?? file.port ?? DEFAULT_HELPER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError('CONFIG_INVALID', `port must be a whole number from 0 to 65535, not ${port}`);
  }
  const origins = [...(file.allowedOrigins ?? []), ...(flags.allowOrigins ?? [])];
  return { port, dev, allowedOrigins: [...new Set(origins.map(checkOrigin))] };
}

function checkOrigin(value: string): string {
  let origin: string;
  try {
    origin = normalizeOrigin(value);
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `allowed origin ${value}: ${(error as Error).message}`);
  }
  if (origin !== value) {
    throw new ConfigError('CONFIG_INVALID', `allowed origin ${value}: write it exactly as ${origin}`);
  }
  if (origin.startsWith('https://') || (isLoopbackHttpOrigin(origin) && new URL(origin).port !== '')) {
    return origin;
  }
  throw new ConfigError(
    'CONFIG_INVALID',
    `allowed origin ${value}: must be https (plain http only for a development server on localhost, 127.0.0.1 or [::1], listed with a port other than 80, e.g. http://localhost:3000)`,
  );
}
