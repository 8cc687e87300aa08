/**
 * An RP server process for the interop tests (Apache, the Authlib RP): spawned with its own
 * environment, its output kept for the failure message, ready once a URL answers 200, stopped by
 * its process id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** What an RP server is configured with: the issuer, its client, where it listens. */
export interface RpOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Loopback address and port to listen on; the RP's base URL is http://host:port. */
  readonly host: string;
  readonly port: number;
}

/** The base URL of an RP listening on `host:port`. */
export function rpBaseUrl(host: string, port: number): string {
  return `http://${host}:${port}`;
}

/** The environment both RP configurations read (the README's variable names). */
export function rpEnvironment(options: RpOptions): Record<string, string> {
  return {
    MYNA_OIDC_ISSUER: options.issuer,
    MYNA_OIDC_CLIENT_ID: options.clientId,
    MYNA_OIDC_CLIENT_SECRET: options.clientSecret,
    RP_HOST: options.host,
    RP_PORT: String(options.port),
    RP_BASE_URL: rpBaseUrl(options.host, options.port),
  };
}

/** How to start an RP process and how to tell it is ready. */
export interface RpProcessOptions {
  /** The RP software, for messages ("mod_auth_openidc", "Authlib"). */
  readonly software: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** A URL of the RP that answers 200 once it serves. */
  readonly readyUrl: string;
  /** More output for a failure message (e.g. a log file). */
  readonly extraOutput?: () => Promise<string>;
}

/** A running RP process. */
export interface RpProcess {
  /** What the process printed so far. */
  output(): string;
  /** Stops the process (SIGTERM) and waits for it to exit. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/** Spawns the process and waits until `readyUrl` answers; on failure stops it and says why. */
export async function startRpProcess(options: RpProcessOptions): Promise<RpProcess> {
  const child: ChildProcess = spawn(options.command, [...options.args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const close = async () => {
    if (child.pid !== undefined && running()) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let failure: string | undefined;
  while (!failure) {
    if (spawnError) failure = `cannot run ${options.command}: ${spawnError.message}`;
    else if (!running()) failure = `it exited (${child.exitCode ?? child.signalCode})`;
    else if ((await statusOf(options.readyUrl)) === 200) return { output: () => output, close };
    else if (Date.now() > deadline)
      failure = `${options.readyUrl} did not answer within ${READY_TIMEOUT_MS} ms`;
    else await sleep(100);
  }
  await close();
  const extra = options.extraOutput ? await options.extraOutput() : '';
  throw new Error(`${options.software} did not start: ${failure}\n${output}${extra}`);
}

/** The HTTP status of a GET to `url`, 0 when nothing answers. */
async function statusOf(url: string): Promise<number> {
  try {
    const response = await fetch(url, { redirect: 'manual' });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
