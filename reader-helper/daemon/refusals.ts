/**
 * The helper's memory of recent refusals, for the status page: which site was turned away and
 * when, nothing else (no PIN, no certificate, no personal data). Bounded; oldest first out.
 */
import type { RefusalReason } from './upgrade-guard.js';

/** One refused connection attempt. */
export interface Refusal {
  /** The page's Origin as sent (cut to 200 characters), or "(none)". */
  readonly site: string;
  readonly time: Date;
  readonly reason: RefusalReason;
}

/** How many refusals the helper remembers. */
export const MAX_REMEMBERED_REFUSALS = 20;

/** A bounded log of refusals, newest first. */
export class RefusalLog {
  private readonly entries: Refusal[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Remembers that `site` was refused for `reason`. */
  record(site: string | undefined, reason: RefusalReason): void {
    this.entries.unshift({
      site: site === undefined ? '(none)' : site.slice(0, 200),
      time: this.now(),
      reason,
    });
    this.entries.length = Math.min(this.entries.length, MAX_REMEMBERED_REFUSALS);
  }

  /** The remembered refusals, newest first. */
  recent(): readonly Refusal[] {
    return [...this.entries];
  }
}
