/** Card and reader failures, with the helper protocol's stable codes. */
import type { HelperErrorCode } from '../../protocol/helper-protocol.js';

/** A failure the page can explain to the user; `triesLeft` when the card reported it. */
export class CardError extends Error {
  override name = 'CardError';
  readonly code: HelperErrorCode;
  readonly triesLeft: number | undefined;

  constructor(code: HelperErrorCode, message: string, options: { triesLeft?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.triesLeft = options.triesLeft;
  }
}
