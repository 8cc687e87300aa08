/**
 * The OP Lambda's own GetSecretValue request (secrets/secrets-manager-http.ts), against loopback
 * services that check its SigV4 signature with an independent implementation
 * (bench/lambda-coldstart.ts signatureProblem): the value, the version stage, the endpoint the
 * environment chooses, the SDK's retry rules, timeouts, and errors that say what went wrong.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type FakeCredentials,
  signatureProblem,
  startFakeSecretsManager,
} from '../../bench/lambda-coldstart.js';
import {
  isMissingSecretValue,
  loadAwsSecrets,
  readSecretString,
} from '../../functions/secrets/aws-secrets.js';
import { generateSecrets } from '../../functions/secrets/local-secrets.js';
import {
  SecretsManagerRequestError,
  secretsManagerEndpoint,
  secretsManagerReader,
} from '../../functions/secrets/secrets-manager-http.js';

const CREDENTIALS: FakeCredentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret-key' };

/** The environment the Lambda runtime gives a function, pointed at `endpoint`. */
function lambdaEnv(endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'session-token-of-the-role',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    ...extra,
  };
}

interface Received {
  readonly target: string | undefined;
  readonly input: { SecretId?: string; VersionStage?: string };
  readonly sessionToken: string | undefined;
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * A loopback Secrets Manager whose `answer` decides each reply (status and JSON body, or
 * 'hang'); a request with a bad signature gets 400 InvalidSignatureException first.
 */
async function service(
  answer: (received: Received, index: number) => { status: number; body: object } | 'hang',
): Promise<{ endpoint: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const problem = signatureProblem(req, body, CREDENTIALS);
      if (problem) {
        res.writeHead(400).end(JSON.stringify({ __type: 'InvalidSignatureException', message: problem }));
        return;
      }
      const request: Received = {
        target: req.headers['x-amz-target'] as string | undefined,
        input: JSON.parse(body) as Received['input'],
        sessionToken: req.headers['x-amz-security-token'] as string | undefined,
      };
      received.push(request);
      const reply = answer(request, received.length - 1);
      if (reply !== 'hang') res.writeHead(reply.status).end(JSON.stringify(reply.body));
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const FAST = { backoffBaseMs: 1 };

describe('GetSecretValue without the SDK client (secretsManagerReader)', () => {
  it('reads AWSCURRENT and a version stage with a signed request carrying the session token', async () => {
    const { endpoint, received } = await service(({ input }) => ({
      status: 200,
      body: { Name: input.SecretId, SecretString: `value at ${input.VersionStage ?? 'AWSCURRENT'}` },
    }));
    const reader = secretsManagerReader({ env: lambdaEnv(endpoint) });
    await expect(reader.readSecret('myna-oidc/op')).resolves.toBe('value at AWSCURRENT');
    await expect(readSecretString('myna-oidc/op', reader, 'AWSPREVIOUS')).resolves.toBe(
      'value at AWSPREVIOUS',
    );
    expect(received).toEqual([
      {
        target: 'secretsmanager.GetSecretValue',
        input: { SecretId: 'myna-oidc/op' },
        sessionToken: 'session-token-of-the-role',
      },
      {
        target: 'secretsmanager.GetSecretValue',
        input: { SecretId: 'myna-oidc/op', VersionStage: 'AWSPREVIOUS' },
        sessionToken: 'session-token-of-the-role',
      },
    ]);
  });

  it('loads the OP secrets from the fake the bench and the Lambda tests use, which checks signatures', async () => {
    const secrets = await generateSecrets();
    const fake = await startFakeSecretsManager('myna-oidc/op', secrets, CREDENTIALS);
    try {
      const reader = secretsManagerReader({ env: lambdaEnv(fake.endpoint) });
      expect(await loadAwsSecrets({ signing: 'myna-oidc/op' }, reader)).toEqual(secrets);
      // A request signed with another key is refused by the fake, and not retried.
      const forged = secretsManagerReader({
        env: lambdaEnv(fake.endpoint, { AWS_SECRET_ACCESS_KEY: 'not-the-key' }),
      });
      const error = await loadAwsSecrets({ signing: 'myna-oidc/op' }, forged).catch(
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({
        code: 'SECRETS_UNAVAILABLE',
        message: 'cannot read secret myna-oidc/op',
      });
      expect((error as Error).cause).toMatchObject({
        code: 'SECRETS_MANAGER_REQUEST_FAILED',
        errorType: 'InvalidSignatureException',
        status: 400,
      });
    } finally {
      await fake.close();
    }
  });

  it('a secret without that version is SECRETS_UNAVAILABLE and counts as a missing value', async () => {
    const { endpoint, received } = await service(() => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
      },
    }));
    const error = await readSecretString(
      'myna-oidc/origin',
      secretsManagerReader({ env: lambdaEnv(endpoint) }),
      'AWSPREVIOUS',
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SECRETS_UNAVAILABLE' });
    expect((error as Error).cause).toMatchObject({ errorType: 'ResourceNotFoundException', status: 400 });
    expect(isMissingSecretValue(error)).toBe(true);
    expect(received).toHaveLength(1);
    expect(isMissingSecretValue(new SecretsManagerRequestError('denied', 'AccessDeniedException', 400))).toBe(
      false,
    );
  });

  it('retries server errors and throttling as the SDK does, up to maxAttempts; never a refusal', async () => {
    const recovering = await service((_, index) =>
      index < 2
        ? { status: 503, body: { __type: 'ServiceUnavailable', message: 'try again' } }
        : { status: 200, body: { SecretString: 'third time' } },
    );
    await expect(
      secretsManagerReader({ env: lambdaEnv(recovering.endpoint), ...FAST }).readSecret('s'),
    ).resolves.toBe('third time');
    expect(recovering.received).toHaveLength(3);

    const throttled = await service(() => ({
      status: 400,
      body: { __type: 'ThrottlingException', message: 'slow down' },
    }));
    await expect(
      secretsManagerReader({ env: lambdaEnv(throttled.endpoint), ...FAST }).readSecret('s'),
    ).rejects.toMatchObject({ errorType: 'ThrottlingException', status: 400 });
    expect(throttled.received).toHaveLength(3);

    const denied = await service(() => ({
      status: 400,
      body: { __type: 'AccessDeniedException', message: 'not allowed' },
    }));
    await expect(
      secretsManagerReader({ env: lambdaEnv(denied.endpoint), ...FAST }).readSecret('s'),
    ).rejects.toThrow('Secrets Manager answered 400 AccessDeniedException: not allowed');
    expect(denied.received).toHaveLength(1);
  });

  it('gives up on a service that does not answer within attemptTimeoutMs', async () => {
    const { endpoint, received } = await service(() => 'hang');
    const started = Date.now();
    await expect(
      secretsManagerReader({
        env: lambdaEnv(endpoint),
        attemptTimeoutMs: 200,
        maxAttempts: 2,
        ...FAST,
      }).readSecret('s'),
    ).rejects.toMatchObject({
      code: 'SECRETS_MANAGER_REQUEST_FAILED',
      message: expect.stringContaining('within 200 ms'),
    });
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses an answer that is not JSON, and an unreachable endpoint, with the reason', async () => {
    const server = createServer((_, res) => res.writeHead(200).end('<html>proxy</html>'));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const htmlEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(secretsManagerReader({ env: lambdaEnv(htmlEndpoint) }).readSecret('s')).rejects.toThrow(
      'Secrets Manager answered 200 with no JSON',
    );
    // A port nothing listens on (the server above, closed): a network error, retried, then thrown.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      secretsManagerReader({ env: lambdaEnv(closedEndpoint), ...FAST }).readSecret('s'),
    ).rejects.toThrow(/Secrets Manager request failed: connect ECONNREFUSED/);
  });

  it('says which part of the environment is missing', async () => {
    const env = lambdaEnv('http://127.0.0.1:9');
    const without = (name: string) => {
      const copy = { ...env };
      delete copy[name];
      return secretsManagerReader({ env: copy }).readSecret('s');
    };
    await expect(without('AWS_REGION')).rejects.toThrow('AWS_REGION is not set');
    await expect(without('AWS_SECRET_ACCESS_KEY')).rejects.toThrow(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
    );
  });
});

describe('the Secrets Manager endpoint of the environment (secretsManagerEndpoint)', () => {
  it('takes the service override, then the global one, then the region partition’s endpoint', () => {
    const href = (env: NodeJS.ProcessEnv, region = 'ap-northeast-1') =>
      secretsManagerEndpoint(env, region).href;
    expect(
      href({ AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL: 'http://other:1' }),
    ).toBe('http://127.0.0.1:4566/');
    expect(href({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe('http://127.0.0.1:4566/');
    expect(href({})).toBe('https://secretsmanager.ap-northeast-1.amazonaws.com/');
    expect(href({ AWS_USE_FIPS_ENDPOINT: 'true' }, 'us-east-1')).toBe(
      'https://secretsmanager-fips.us-east-1.amazonaws.com/',
    );
    expect(href({ AWS_USE_DUALSTACK_ENDPOINT: 'true' })).toBe(
      'https://secretsmanager.ap-northeast-1.api.aws/',
    );
    expect(href({}, 'cn-north-1')).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn/');
  });
});
