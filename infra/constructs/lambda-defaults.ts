/**
 * What every Lambda of the stack shares: the runtime, the esbuild options (the ones the benchmark
 * measures: functions/op/bundle-options.ts), local bundling (no Docker), and a log-write policy
 * scoped to the function's own log group. The OP's function is bundled split
 * (splitBundledFunctionProps: its lazily loaded modules in chunks of their own) by the very
 * function the cold-start bench bundles with; NodejsFunction's own bundling writes one file.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  Code,
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
import { buildSync } from 'esbuild';
import {
  OP_LAMBDA_BUNDLING,
  opLambdaSplitBuildOptions,
  SPLIT_ENTRY_NAME,
} from '../../functions/op/bundle-options.js';

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
    sourcesContent: options.sourcesContent,
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
    ...runtimeProps(options),
    entry: `${options.projectRoot}/${options.entry}`,
    projectRoot: options.projectRoot,
    depsLockFilePath: `${options.projectRoot}/package-lock.json`,
    bundling: lambdaBundling(options.commandHooks),
  };
}

/** Where a split-bundled function comes from: also the files shipped beside its code. */
export interface SplitBundledFunctionOptions extends Omit<BundledFunctionOptions, 'commandHooks'> {
  /** The exported handler of the entry. */
  readonly handler: string;
  /** [absolute source path, file name in the asset] of each file shipped with the code. */
  readonly shipped: readonly (readonly [string, string])[];
}

/**
 * bundledFunctionProps, but the code bundled split (bundle-options.ts opLambdaSplitBuildOptions:
 * what the entry imports only dynamically is a chunk read on first use) by esbuild in this
 * process — no Docker, no network: the image named is never pulled — with the shipped files
 * copied beside it. The asset is hashed by its output, as NodejsFunction does.
 */
export function splitBundledFunctionProps(options: SplitBundledFunctionOptions): NodejsFunctionProps {
  const entry = join(options.projectRoot, options.entry);
  return {
    ...runtimeProps(options),
    code: Code.fromAsset(options.projectRoot, {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('local-bundling-only'),
        local: {
          tryBundle(outputDir) {
            buildSync({ ...opLambdaSplitBuildOptions(entry, outputDir), absWorkingDir: options.projectRoot });
            for (const [from, to] of options.shipped) copyFileSync(from, join(outputDir, to));
            return true;
          },
        },
      },
    }),
    handler: `${SPLIT_ENTRY_NAME}.${options.handler}`,
  };
}

/** The runtime, architecture, role and logging every function of the stack has. */
function runtimeProps(options: Pick<BundledFunctionOptions, 'role' | 'logGroup'>): NodejsFunctionProps {
  return {
    runtime: LAMBDA_RUNTIME,
    architecture: Architecture.ARM_64,
    role: options.role,
    logGroup: options.logGroup,
    loggingFormat: LoggingFormat.JSON,
    applicationLogLevelV2: ApplicationLogLevel.INFO,
    systemLogLevelV2: SystemLogLevel.INFO,
  };
}
