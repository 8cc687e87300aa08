/**
 * Drive the OP like a browser and a relying party would: the scripted browser, virtual card and
 * login steps live in the product (local/scripted-login.ts, the bench uses them too).
 */
export * from '../../local/scripted-login.js';

/**
 * A login challenge's nonce as the OP makes it (op/interactions/limits.ts challengeNonce): the
 * challenge's number in base 36, then its 43-character HMAC.
 */
export const CHALLENGE_NONCE = /^[0-9a-z]{1,6}[A-Za-z0-9_-]{43}$/;
