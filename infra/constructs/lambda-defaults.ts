/**
 * What every Lambda of the stack shares: the runtime, the esbuild options (the ones the benchmark
 * measures: functions/op/bundle-options.ts), local bundling (no Docker), and a log-write policy
 * scoped to the function's own log group.
 */
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
} from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  type ICommandHooks,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { OP_LAMBDA_BUNDLING } from '../../functions/op/bundle-options.js';

/** The newest Node.js runtime of this aws-cdk-lib (the bundle targets node22, which it runs). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/** NodejsFunction bundling = OP_LAMBDA_BUNDLING, bundled by the local esbuild (never Docker). */
export function lambdaBundling(commandHooks?: ICommandHooks): BundlingOptions {
  const options = OP_LAMBDA_BUNDLING;
  if (options.format !== OutputFormat.ESM) throw new Error(`unexpected bundle format ${options.format}`);
  return {
    format: OutputFormat.ESM,
    target: options.target,
    minify: options.minify,
    sourceMap: options.sourceMap,
    banner: options.banner,
    mainFields: [...options.mainFields],
    externalModules: [...options.externalModules],
    forceDockerBundling: false,
    ...(commandHooks ? { commandHooks } : {}),
  };
}

/** Lets `role` write to `logGroup` only (the group exists: no logs:CreateLogGroup). */
export function addLogWritePolicy(role: IRole, logGroup: ILogGroup): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
}

/** Where a bundled function comes from and what it runs as. */
export interface BundledFunctionOptions {
  readonly projectRoot: string;
  /** The compiled entry, relative to the project root (e.g. dist/functions/op/lambda.js). */
  readonly entry: string;
  readonly role: IRole;
  readonly logGroup: ILogGroup;
  readonly commandHooks?: ICommandHooks;
}

/**
 * The NodejsFunction props every Lambda of the stack shares: the entry bundled locally with the
 * bench's esbuild options, the runtime, arm64, its own role, JSON logs into its own log group.
 */
export function bundledFunctionProps(options: BundledFunctionOptions): NodejsFunctionProps {
  return {
    entry: `${options.projectRoot}/${options.entry}`,
    projectRoot: options.projectRoot,
    depsLockFilePath: `${options.projectRoot}/package-lock.json`,
    runtime: LAMBDA_RUNTIME,
    architecture: Architecture.ARM_64,
    role: options.role,
    logGroup: options.logGroup,
    loggingFormat: LoggingFormat.JSON,
    applicationLogLevelV2: ApplicationLogLevel.INFO,
    systemLogLevelV2: SystemLogLevel.INFO,
    bundling: lambdaBundling(options.commandHooks),
  };
}
