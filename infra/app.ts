/**
 * The CDK app (`cdk.json`: `node dist/infra/app.js`, after `npm run build`). Reads the deployment
 * settings from context, builds the OP stack (and, with `-c waf=true`, the WAF stack in us-east-1)
 * and runs the cdk-nag AwsSolutions checks on everything. Synthesizes offline: no AWS credentials,
 * no Docker (local esbuild). docs/deploy.md describes every context value.
 */
import { pathToFileURL } from 'node:url';
import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config.js';
import { findProjectRoot } from './paths.js';
import { MynaOidcStack } from './stack.js';
import { WafStack } from './waf-stack.js';

/** Name of the OP stack (and prefix of the WAF stack's). */
export const STACK_NAME = 'MynaOidc';

/** Builds the app's stacks on `app` (tests pass an App with their context). */
export function buildApp(app: App, projectRoot = findProjectRoot()): { op: MynaOidcStack; waf?: WafStack } {
  const config = readConfig(app.node);
  // Environment-agnostic unless the context names account/region (then Route 53/ACM lookups and
  // region-specific values resolve at synth time).
  const env: Environment | undefined =
    config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const op = new MynaOidcStack(app, STACK_NAME, {
    ...(env ? { env } : {}),
    config,
    projectRoot,
    description: 'myna-oidc: Sign in with MyNumber card (OpenID Provider)',
  });
  const waf = config.waf
    ? new WafStack(app, `${STACK_NAME}Waf`, {
        env: { account: config.account, region: 'us-east-1' },
        loginRateLimit: config.loginRateLimit,
        tokenRateLimit: config.tokenRateLimit,
        description: 'myna-oidc: WAF web ACL (CLOUDFRONT scope) for the OP',
      })
    : undefined;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { op, ...(waf ? { waf } : {}) };
}

// Run as the CDK app (not when imported by tests).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  const stacks = buildApp(app);
  app.synth();
  // Also walk the tree directly: the CDK validation hook reports nothing for cdk-nag v3 on this
  // aws-cdk-lib (no appConstruct on the context), and an unacknowledged finding must fail synth.
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  const violations = [stacks.op, stacks.waf]
    .filter((stack) => stack !== undefined)
    .flatMap((stack) => checks.validateScope(stack).violations);
  for (const violation of violations) {
    process.stderr.write(
      `${violation.ruleName}: ${violation.description} at ${violation.violatingResources
        .map((resource) => resource.locations?.join('/') ?? resource.resourceLogicalId)
        .join(', ')}\n`,
    );
  }
  if (violations.length > 0) process.exitCode = 1;
}
