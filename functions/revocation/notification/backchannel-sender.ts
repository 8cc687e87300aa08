/**
 * The one sender of back-channel logout tokens, for RP-initiated logout (op/backchannel-logout.ts)
 * and the revocation notification job: takes deliveries from the durable queue
 * (storage/logout-queue.ts), has each logout token signed (logout-token.ts claims with the
 * delivery's stable `jti`, signed by the LogoutTokenSigner it is given: logout-token-signer.ts), POSTs it under the private-network rule (private-network.ts) and records the outcome.
 *
 * Within one call a delivery is tried up to `attemptsPerRun` times with a doubling delay from
 * `retryDelayMs`; what is still failing is left to a later run on the queue's schedule, and after
 * the queue's maxAttempts it is `failed`. Every failed attempt is logged as a warning
 * `backchannel.delivery_failed` with `client_id`, `reason` and `attempt` (1 = the first attempt
 * ever) — never the token, sub or sid — and counted; the stack's metric filter and alarm watch
 * that event. A delivery given up is logged once more as `backchannel.delivery_abandoned`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKCHANNEL_RETRY } from '../../defaults.js';
import { type OpLogger, stderrLogger } from '../../log/logger.js';
import type { DeliveryOutcome, LogoutDelivery, LogoutQueue } from '../../storage/logout-queue.js';
import { deliverLogoutToken, logoutTokenPayload } from './logout-token.js';
import type { LogoutTokenSigner } from './logout-token-signer.js';
import { PrivateRpHosts } from './private-network.js';

/** What a sender did; the caller's summary. */
export interface DeliveryCounts {
  delivered: number;
  /** Deliveries left to a later run. */
  retrying: number;
  /** Deliveries given up after the queue's maxAttempts. */
  failed: number;
  /** Failed attempts (each one logged as backchannel.delivery_failed). */
  failedAttempts: number;
}

/** A new, zeroed DeliveryCounts. */
export function noDeliveries(): DeliveryCounts {
  return { delivered: 0, retrying: 0, failed: 0, failedAttempts: 0 };
}

/** Options of BackchannelSender; timings default to BACKCHANNEL_RETRY. */
export interface BackchannelSenderOptions {
  readonly queue: LogoutQueue;
  /** The OP's issuer (iss of logout tokens). */
  readonly issuer: string;
  /** Signs the logout tokens (the OP's keys, held by the signer only). */
  readonly signer: LogoutTokenSigner;
  /** RP hosts that may be on private networks (default: none). */
  readonly privateRpHosts?: PrivateRpHosts;
  readonly logger?: OpLogger;
  readonly now?: () => Date;
  /** Time allowed for one POST, ms. */
  readonly timeoutMs?: number;
  /** Attempts per delivery within one call. */
  readonly attemptsPerRun?: number;
  /** First delay between attempts within one call, ms, doubling. */
  readonly retryDelayMs?: number;
  /** Called after each recorded outcome (the job updates its audit record here). */
  readonly onRecorded?: (delivery: LogoutDelivery, outcome: DeliveryOutcome, attempts: number) => unknown;
}

/** Sends queued logout tokens; see the module comment. */
export class BackchannelSender {
  readonly #o: BackchannelSenderOptions;
  readonly #hosts: PrivateRpHosts;
  readonly #logger: OpLogger;
  readonly #now: () => Date;

  constructor(options: BackchannelSenderOptions) {
    this.#o = options;
    this.#hosts = options.privateRpHosts ?? new PrivateRpHosts();
    this.#logger = options.logger ?? stderrLogger;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Sends every due delivery, stopping before the next one once `outOfTime()`; returns true when
   * it stopped early (the next run continues).
   */
  async sendDue(counts: DeliveryCounts, outOfTime: () => boolean = () => false): Promise<boolean> {
    for (const delivery of await this.#o.queue.due(this.#now())) {
      if (outOfTime()) return true;
      await this.send(delivery, counts);
    }
    return false;
  }

  /**
   * Tries `delivery` up to `attemptsPerRun` times and records the outcome; undefined when another
   * sender recorded it first.
   */
  async send(
    delivery: LogoutDelivery,
    counts: DeliveryCounts,
    attemptsPerRun = this.#o.attemptsPerRun ?? BACKCHANNEL_RETRY.attemptsPerRun,
  ): Promise<DeliveryOutcome | undefined> {
    const retryDelayMs = this.#o.retryDelayMs ?? BACKCHANNEL_RETRY.retryDelayMs;
    let reason: string | undefined;
    let tried = 0;
    while (tried < attemptsPerRun && delivery.attempts + tried < this.#o.queue.maxAttempts) {
      if (tried > 0) await sleep(retryDelayMs * 2 ** (tried - 1));
      tried++;
      reason = await this.#attempt(delivery);
      if (reason === undefined) break;
      counts.failedAttempts++;
      this.#logger.warn('backchannel.delivery_failed', {
        client_id: delivery.clientId,
        reason,
        attempt: delivery.attempts + tried,
      });
    }
    // A delivery with no attempt left (maxAttempts lowered since it was queued) is given up, not sent.
    if (tried === 0) reason = `no attempt left of ${this.#o.queue.maxAttempts}`;
    const attempts = delivery.attempts + tried;
    const outcome = await this.#o.queue.record(delivery, tried, reason, this.#now());
    if (outcome === undefined) return undefined;
    counts[outcome]++;
    if (outcome === 'delivered') {
      this.#logger.info('backchannel.delivered', { client_id: delivery.clientId, attempt: attempts });
    } else if (outcome === 'failed') {
      this.#logger.warn('backchannel.delivery_abandoned', { client_id: delivery.clientId, attempts, reason });
    }
    await this.#o.onRecorded?.(delivery, outcome, attempts);
    return outcome;
  }

  /** One attempt; the reason it failed, or undefined when the RP took the token. */
  async #attempt(delivery: LogoutDelivery): Promise<string | undefined> {
    try {
      const token = await this.#o.signer.sign({
        payload: logoutTokenPayload({
          issuer: this.#o.issuer,
          clientId: delivery.clientId,
          sub: delivery.sub,
          sid: delivery.sid,
          jti: delivery.jti,
          now: this.#now(),
        }),
        alg: delivery.alg,
      });
      await deliverLogoutToken(delivery.uri, token, {
        timeoutMs: this.#o.timeoutMs ?? BACKCHANNEL_RETRY.timeoutMs,
        privateRpHosts: this.#hosts,
      });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }
}
