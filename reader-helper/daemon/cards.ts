/** What the daemon needs from the card layer: CardService's operations, and nothing of its lifecycle. */
import type { CardService } from '../card/card-service.js';

/** The card operations the daemon calls. Failures are CardError with a protocol code. */
export type HelperCards = Pick<
  CardService,
  'readers' | 'onChange' | 'authenticate' | 'verifyIdentity' | 'virtual'
>;
