/** The PIN entry's typed failure and its time limit (shared by the flow and the dialog runner). */

export type PinEntryErrorCode = 'USER_CANCELLED' | 'PIN_ENTRY_UNAVAILABLE' | 'CANCELLED' | 'TIMEOUT';

/** Why no PIN came back: the person cancelled, no window can be shown, or the request was aborted. */
export class PinEntryError extends Error {
  override name = 'PinEntryError';
  readonly code: PinEntryErrorCode;

  constructor(code: PinEntryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

/** How long one PIN request (last-try confirmation and PIN windows) may wait for the person before TIMEOUT. */
export const PIN_ENTRY_TIMEOUT_MS = 120_000;

/**
 * Whether `signal` was aborted by a timeout (AbortSignal.timeout's TimeoutError) rather than a
 * cancel. By name, not instanceof: the DOMException may come from another realm (vm contexts).
 */
export function abortedByTimeout(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return (
    typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError'
  );
}
