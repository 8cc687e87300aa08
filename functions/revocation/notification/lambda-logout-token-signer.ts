/**
 * The notification job's side of the logout-token signer Lambda (logout-signer-handler.ts): each
 * signing request is one synchronous Lambda Invoke with the job role's credentials, which may
 * invoke that one function and read no signing secret. The signer answers `{ token }` or
 * `{ refused: { code, message } }`; a refusal becomes LogoutTokenRefusedError, anything else an
 * Error naming the cause (never the payload).
 */
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import {
  type LogoutTokenRefusal,
  LogoutTokenRefusedError,
  type LogoutTokenSigner,
  type LogoutTokenSigningRequest,
} from './logout-token-signer.js';

/** What the signer Lambda answers. */
export type LogoutSignerResponse =
  | { readonly token: string }
  | { readonly refused: { readonly code: LogoutTokenRefusal; readonly message: string } };

/** Where and as whom Lambda is invoked. */
export interface LambdaInvokeOptions {
  /** The region (default: the SDK's, AWS_REGION on Lambda). */
  readonly region?: string;
  /** The Lambda API endpoint (default: the SDK's; it also reads AWS_ENDPOINT_URL_LAMBDA). */
  readonly endpoint?: string;
  /** Default: the SDK's credential chain (on Lambda, the function role's). */
  readonly credentials?: LambdaClientConfig['credentials'];
  /** Time allowed for one invocation, ms (default 10 s). */
  readonly timeoutMs?: number;
}

const DEFAULT_INVOKE_TIMEOUT_MS = 10_000;

/** The LogoutTokenSigner of the notification job on AWS: the signer Lambda `functionName`. */
export class LambdaLogoutTokenSigner implements LogoutTokenSigner {
  readonly #client: LambdaClient;
  readonly #timeoutMs: number;

  constructor(
    readonly functionName: string,
    options: LambdaInvokeOptions = {},
  ) {
    // One client (one credential chain, cached until it expires) for all invocations.
    this.#client = new LambdaClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 1,
    });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS;
  }

  async sign(request: LogoutTokenSigningRequest): Promise<string> {
    const response = (await this.#invoke(request)) as
      | Partial<{ token: unknown; refused: { code?: unknown; message?: unknown } }>
      | undefined;
    if (typeof response?.token === 'string') return response.token;
    const refused = response?.refused;
    if (refused && typeof refused.message === 'string') {
      throw new LogoutTokenRefusedError(refused.code as LogoutTokenRefusal, refused.message);
    }
    throw new Error(`the logout-token signer ${this.functionName} gave no token`);
  }

  /** One synchronous invocation; throws when Lambda answers an error or the function failed. */
  async #invoke(payload: LogoutTokenSigningRequest): Promise<unknown> {
    const name = this.functionName;
    let output: { StatusCode?: number; FunctionError?: string; Payload?: Uint8Array };
    try {
      output = await this.#client.send(
        new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
        { abortSignal: AbortSignal.timeout(this.#timeoutMs) },
      );
    } catch (error) {
      const { name: kind, $metadata } = error as Error & { $metadata?: { httpStatusCode?: number } };
      if (kind === 'AbortError' || kind === 'TimeoutError') {
        throw new Error(`Lambda ${name} did not answer within ${this.#timeoutMs} ms`, { cause: error });
      }
      const status = $metadata?.httpStatusCode;
      throw new Error(
        status ? `Lambda Invoke of ${name} answered ${status}` : `Lambda ${name} unreachable: ${kind}`,
        { cause: error },
      );
    }
    if (output.FunctionError) throw new Error(`Lambda ${name} failed (${output.FunctionError})`);
    return JSON.parse(new TextDecoder().decode(output.Payload ?? new Uint8Array())) as unknown;
  }
}
