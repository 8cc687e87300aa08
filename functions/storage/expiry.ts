/**
 * Item lifetimes. Items carry `expiresAt` in epoch seconds (what DynamoDB TTL reads); TTL deletes
 * late (up to days, never on dynalite), so every read checks expiry itself with these functions.
 */

/** The current time in epoch milliseconds; injectable so tests need no sleeps. */
export type Clock = () => number;

/** Epoch seconds of `nowMs`, rounded down (the way oidc-provider computes `iat` and `exp`). */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** The `expiresAt` of an item written at `nowMs` that lives `seconds`: never longer than that. */
export function expiresAtAfter(nowMs: number, seconds: number): number {
  return epochSeconds(nowMs) + seconds;
}

/** True when an item with this `expiresAt` (absent: never expires) has expired at `nowMs`. */
export function hasExpired(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt !== undefined && nowMs >= expiresAt * 1000;
}
