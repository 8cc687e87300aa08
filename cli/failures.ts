/**
 * One line for a command that failed: the error's stable code and message, or, for the AWS SDK's
 * configuration and connection failures, a sentence saying what to pass instead of the SDK's
 * terse text ("Region is missing").
 */

/** What the operator should do about an AWS SDK failure, or undefined for other errors. */
function awsAdvice(error: { name?: string; code?: string; message?: string }): string | undefined {
  if (error.message === 'Region is missing') {
    return 'no AWS region: pass --region <region> (or set AWS_REGION) to use the deployed table, or --endpoint <url> for a local DynamoDB (npm start prints it)';
  }
  if (error.name === 'CredentialsProviderError') {
    return 'no AWS credentials: configure them as for the AWS CLI (AWS_PROFILE, aws configure or aws sso login), or pass --endpoint <url> for a local DynamoDB';
  }
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND') {
    return `cannot reach the DynamoDB endpoint (${error.message}): check --endpoint, and that the local stack (npm start) is running`;
  }
  if (error.name === 'ResourceNotFoundException') {
    return 'the table does not exist there: check --table and --endpoint/--region';
  }
  return undefined;
}

/** The line printed for `error` from command `name`. */
export function describeFailure(name: string, error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const advice = awsAdvice(error as Parameters<typeof awsAdvice>[0]);
  if (advice) return `myna-oidc ${name}: ${advice}`;
  return `myna-oidc ${name}: ${code && !message.startsWith(code) ? `${code}: ` : ''}${message}`;
}
