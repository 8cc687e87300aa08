/**
 * The helper's memory of recent refusals, for the status page: which site was turned away, why,
 * how often and when last, nothing else (no PIN, no certificate, no personal data). A site is
 * shown only when its Origin header is a web origin exactly as a browser serializes it; anything
 * else is "(not a web origin)", so a local program cannot write arbitrary text into the page.
 * One entry per site (most recent first); bounded, the least recent out.
 */
import { normalizeOrigin } from '../../protocol/signed-data.js';
import type { RefusalReason } from './upgrade-guard.js';

/** Shown for an upgrade without an Origin header. */
export const NO_ORIGIN = '(none)';
/** Shown for an Origin header that is not a serialized web origin. */
export const NOT_A_WEB_ORIGIN = '(not a web origin)';

/** The refusals of one site. */
export interface Refusal {
  /** The page's origin, {@link NO_ORIGIN} or {@link NOT_A_WEB_ORIGIN}. */
  readonly site: string;
  /** When it was last refused. */
  readonly time: Date;
  /** Why it was last refused. */
  readonly reason: RefusalReason;
  /** How many times it was refused since the helper started. */
  readonly count: number;
}

/** How many sites the helper remembers. */
export const MAX_REMEMBERED_REFUSALS = 20;

function siteOf(header: string | undefined): string {
  if (header === undefined) return NO_ORIGIN;
  try {
    return normalizeOrigin(header) === header ? header : NOT_A_WEB_ORIGIN;
  } catch {
    return NOT_A_WEB_ORIGIN;
  }
}

/** A bounded log of refusals by site, most recently refused first. */
export class RefusalLog {
  private readonly entries = new Map<string, Refusal>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Remembers that a connection with Origin header `origin` was refused for `reason`. */
  record(origin: string | undefined, reason: RefusalReason): void {
    const site = siteOf(origin);
    const count = (this.entries.get(site)?.count ?? 0) + 1;
    this.entries.delete(site);
    this.entries.set(site, { site, time: this.now(), reason, count });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_REMEMBERED_REFUSALS) break;
      this.entries.delete(oldest);
    }
  }

  /** The remembered refusals, most recent first. */
  recent(): readonly Refusal[] {
    return [...this.entries.values()].reverse();
  }
}
