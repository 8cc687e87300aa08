/**
 * A local stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`) that
 * runs real handlers in this process, for tests of code that invokes a Lambda (the notification
 * job's logout-token signer). It answers as Lambda does: 200 with the handler's JSON result, 200
 * with `X-Amz-Function-Error: Unhandled` when the handler threw, 404 for an unknown function, 403
 * without a SigV4 Authorization header for the `lambda` service.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded invocation. */
export interface FakeInvocation {
  readonly functionName: string;
  readonly authorization: string;
  readonly payload: unknown;
}

export interface FakeLambda {
  /** For AWS_ENDPOINT_URL_LAMBDA or LambdaInvokeOptions.endpoint. */
  readonly endpoint: string;
  readonly invocations: FakeInvocation[];
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Serves `functions` (name → handler) on 127.0.0.1:0. */
export async function startFakeLambda(
  functions: Record<string, (event: unknown) => Promise<unknown>>,
): Promise<FakeLambda> {
  const invocations: FakeInvocation[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        response
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(JSON.stringify(body));
      const name = INVOKE_PATH.exec(request.url ?? '')?.[1];
      const authorization = request.headers.authorization ?? '';
      if (request.method !== 'POST' || name === undefined) return answer(404, { Type: 'User' });
      if (
        !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/lambda\/aws4_request, SignedHeaders=/.test(
          authorization,
        )
      ) {
        return answer(403, { message: 'Missing Authentication Token' });
      }
      const functionName = decodeURIComponent(name);
      const handler = functions[functionName];
      if (!handler) return answer(404, { Type: 'User', message: `Function not found: ${functionName}` });
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      invocations.push({ functionName, authorization, payload });
      handler(payload).then(
        (result) => answer(200, result),
        (error: Error) =>
          answer(
            200,
            { errorType: error.name, errorMessage: error.message },
            { 'x-amz-function-error': 'Unhandled' },
          ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
