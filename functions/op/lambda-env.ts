/**
 * The Lambda's configuration from its environment:
 *   OP_ISSUER                    issuer URL (the API's custom domain), required
 *   OP_TABLE_NAME                DynamoDB table, required
 *   OP_SECRET_ID                 Secrets Manager secret (name or ARN) with the OpSecrets JSON, required
 *   OP_TRUST_ANCHORS_FILE        PEM bundle of the JPKI user-auth CA certificates, deployed with the
 *                                code (a path relative to LAMBDA_TASK_ROOT or absolute), required
 *   OP_CRL_FILES                 comma-separated DER/PEM CRL files loaded at cold start, optional
 *   OP_ALLOW_UNKNOWN_REVOCATION  "true" to accept logins whose revocation status is unknown
 *   OP_CLOCK_SKEW_SECONDS        default 60
 *   OP_HELPER_PORT               default 47123
 *   OP_HELPER_GUIDE_URL          link to the helper's install instructions
 */
import { OpConfigError } from './config.js';

/** The parsed environment. */
export interface LambdaEnv {
  readonly issuer: string;
  readonly tableName: string;
  readonly secretId: string;
  readonly trustAnchorsFile: string;
  readonly crlFiles: readonly string[];
  readonly allowUnknownRevocation: boolean;
  readonly clockSkewSeconds?: number;
  readonly helperPort?: number;
  readonly helperGuideUrl?: string;
}

/** Reads the environment; throws OpConfigError naming the first missing or bad variable. */
export function readLambdaEnv(env: NodeJS.ProcessEnv): LambdaEnv {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new OpConfigError(`environment variable ${name} is required`);
    return value;
  };
  const integer = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^[0-9]+$/.test(value)) throw new OpConfigError(`environment variable ${name} must be an integer`);
    return Number(value);
  };
  const flag = env.OP_ALLOW_UNKNOWN_REVOCATION ?? 'false';
  if (flag !== 'true' && flag !== 'false') {
    throw new OpConfigError('environment variable OP_ALLOW_UNKNOWN_REVOCATION must be "true" or "false"');
  }
  return {
    issuer: required('OP_ISSUER'),
    tableName: required('OP_TABLE_NAME'),
    secretId: required('OP_SECRET_ID'),
    trustAnchorsFile: required('OP_TRUST_ANCHORS_FILE'),
    crlFiles: (env.OP_CRL_FILES ?? '').split(',').filter((path) => path.trim() !== ''),
    allowUnknownRevocation: flag === 'true',
    clockSkewSeconds: integer('OP_CLOCK_SKEW_SECONDS'),
    helperPort: integer('OP_HELPER_PORT'),
    helperGuideUrl: env.OP_HELPER_GUIDE_URL || undefined,
  };
}
