/**
 * The login's application limits (defaults in defaults.ts LOGIN_LIMITS), counted in the table so
 * they hold across Lambda instances:
 * - card answers per sign-in: each answer is a full verification (chain, revocation, signature),
 *   and needs a challenge consumed: counted by that consume, in the interaction's item;
 * - challenges per sign-in: the one a new interaction is stored with, page loads that need
 *   another and the fresh challenge after a refused answer, counted by the write that sets the
 *   challenge, in the interaction's item (storage/challenge-store.ts);
 * - authorization requests per client address per minute: each may store an interaction
 *   (storage/rate-counter.ts).
 * A request over a limit is refused with LoginError TOO_MANY_ATTEMPTS (429, Retry-After). The
 * relying party learns nothing: the browser gets the page or JSON, no redirect is made.
 *
 * A challenge's nonce is derived, not stored: the challenge's number, then an HMAC of the
 * interaction's uid and that number (challengeNonce), so the login page of a new interaction can
 * show the challenge it was stored with without reading it, and the table holds nothing a
 * signature could be made for.
 *
 * The client address is stored only as a keyed hash (HMAC under a key derived from the pairwise
 * secret, keyed-hash.ts), so the table holds no IP address. An IPv6 client is counted by its /64
 * prefix (addressBucket): one subscriber usually gets a whole /64 and could rotate through it.
 */
import { isIP } from 'node:net';
import { ADDRESS_WINDOW_SECONDS } from '../../defaults.js';
import type { OpLogger } from '../../log/logger.js';
import { ChallengeLimitError, type ChallengeStore, FIRST_CHALLENGE } from '../../storage/challenge-store.js';
import type { RateCounter } from '../../storage/rate-counter.js';
import { keyedHash } from '../../subject/keyed-hash.js';
import type { LoginLimitSettings } from '../limit-settings.js';
import { LoginError } from './login-error.js';

const ADDRESS_LABEL = 'myna-oidc/rate-limit/client-address';
const CHALLENGE_LABEL = 'myna-oidc/login-challenge';
/** Address buckets whose last count an instance remembers (countsAlongside), the oldest dropped first. */
const SEEN_ADDRESSES = 10_000;

/** The 16-bit groups of the IPv6 address `address` (valid: isIP 6, without a zone). */
function ipv6Groups(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const [a, b, c, d] = (dotted?.slice(1) ?? []).map(Number) as [number, number, number, number];
  const hex = dotted
    ? `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
    : address;
  const groups = (text: string | undefined) =>
    text ? text.split(':').map((group) => parseInt(group, 16)) : [];
  const [head, tail] = hex.split('::');
  if (tail === undefined) return groups(head);
  const [first, last] = [groups(head), groups(tail)];
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

/**
 * What one per-address bucket counts, for client address `address`: an IPv4 address as is (also
 * when IPv4-mapped, `::ffff:192.0.2.1`), an IPv6 address by its /64 prefix (`2001:db8:0:1::/64`),
 * anything else unchanged.
 */
export function addressBucket(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIP(bare) !== 6) return bare;
  const groups = ipv6Groups(bare.toLowerCase());
  const [g5, g6, g7] = groups.slice(5) as [number, number, number];
  if (groups.slice(0, 5).every((group) => group === 0) && g5 === 0xffff) {
    return [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** What LoginLimits needs. */
export interface LoginLimitsOptions {
  /** The per-address counters. */
  readonly counter: RateCounter;
  /** The challenges, which count the per-interaction limits. */
  readonly challenges: ChallengeStore;
  readonly settings: LoginLimitSettings;
  /**
   * The secret the address hash and the challenge nonces are keyed with (the pairwise secret:
   * labels separate the uses).
   */
  readonly secret: Uint8Array;
  /** Gets `login.limited` with the limit's name (never the address) for every refused request. */
  readonly logger: OpLogger;
}

/** Checks the limits of LoginLimitSettings; each check counts one hit. */
export class LoginLimits {
  readonly #counter: RateCounter;
  readonly #challenges: ChallengeStore;
  readonly #settings: LoginLimitSettings;
  readonly #secret: Uint8Array;
  readonly #logger: OpLogger;
  /** The last count this instance saw per address bucket (its keyed hash), and its window's end. */
  readonly #seen = new Map<string, { readonly hits: number; readonly until: number }>();

  constructor(options: LoginLimitsOptions) {
    this.#counter = options.counter;
    this.#challenges = options.challenges;
    this.#settings = options.settings;
    this.#secret = options.secret;
    this.#logger = options.logger;
  }

  /**
   * Consumes the challenge of interaction `uid` for one more card answer: its nonce, or undefined
   * when it has none to consume (expired, consumed, never issued).
   */
  async answer(uid: string): Promise<string | undefined> {
    const consumed = await this.#limited(this.#challenges.consume(uid, this.#settings.answersPerInteraction));
    return consumed === undefined ? undefined : this.challengeNonce(uid, consumed);
  }

  /**
   * One more challenge for interaction `uid`: its nonce, or undefined when `uid` is no live
   * interaction at its login prompt.
   */
  async challenge(uid: string): Promise<string | undefined> {
    const issued = await this.#limited(this.#challenges.issue(uid, this.#settings.challengesPerInteraction));
    return issued === undefined ? undefined : this.challengeNonce(uid, issued);
  }

  /** The nonce of the challenge interaction `uid` was stored with (storage/challenge-store.ts). */
  firstChallenge(uid: string): string {
    return this.challengeNonce(uid, FIRST_CHALLENGE);
  }

  /** The nonce of challenge `number` of interaction `uid`: the number (base 36), then its HMAC. */
  challengeNonce(uid: string, number: number): string {
    const digits = number.toString(36);
    return `${digits}${keyedHash(this.#secret, CHALLENGE_LABEL, [uid, digits])}`;
  }

  /** One more authorization request from client address `address` (its bucket: addressBucket). */
  async authorization(address: string): Promise<void> {
    const key = this.#addressKey(address);
    const { hits, resetsInSeconds } = await this.#counter.hit('address', key, ADDRESS_WINDOW_SECONDS);
    this.#seen.delete(key);
    if (this.#seen.size >= SEEN_ADDRESSES) this.#seen.delete(this.#seen.keys().next().value as string);
    this.#seen.set(key, { hits, until: Date.now() + resetsInSeconds * 1000 });
    if (hits > this.#settings.interactionsPerAddressPerMinute) this.#refuse('address', resetsInSeconds);
  }

  /**
   * True when an authorization request from `address` may be counted alongside the work it
   * leads to rather than before it (routes.ts): this instance last saw its bucket's count in the
   * current window at no more than half the limit, or not at all, so the request is almost surely
   * within it. Under a flood the count is soon seen higher and every request is counted before
   * any work, so refused requests write nothing; only requests from one address spread over
   * several instances at once may have one counted alongside and refused. A hint: the count
   * itself decides every refusal.
   */
  countsAlongside(address: string): boolean {
    const seen = this.#seen.get(this.#addressKey(address));
    return (
      seen === undefined ||
      seen.until <= Date.now() ||
      seen.hits <= this.#settings.interactionsPerAddressPerMinute / 2
    );
  }

  #addressKey(address: string): string {
    return keyedHash(this.#secret, ADDRESS_LABEL, [addressBucket(address)]);
  }

  /** `counted`'s result; its ChallengeLimitError as the refusal. */
  async #limited<T>(counted: Promise<T>): Promise<T> {
    try {
      return await counted;
    } catch (error) {
      if (error instanceof ChallengeLimitError) this.#refuse(error.count, error.retryAfterSeconds);
      throw error;
    }
  }

  #refuse(limit: string, retryAfterSeconds: number): never {
    this.#logger.info('login.limited', { limit, retryAfterSeconds });
    throw new LoginError('TOO_MANY_ATTEMPTS', { retryAfterSeconds });
  }
}
