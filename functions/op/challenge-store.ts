/**
 * Login challenges: a random nonce (256 bits, base64url) bound to one interaction (the OIDC login
 * in progress), valid for at most five minutes and consumed at most once.
 */

export const CHALLENGE_TTL_SECONDS = 300;

export interface ChallengeStore {
  /** Creates (or replaces) the challenge of `interactionUid` and returns its nonce. */
  issue(interactionUid: string): Promise<string>;
  /**
   * Atomically consumes the challenge of `interactionUid`: returns its nonce when it exists, is
   * unexpired and was not consumed before; otherwise undefined. Of concurrent calls at most one
   * gets the nonce.
   */
  consume(interactionUid: string): Promise<string | undefined>;
}
