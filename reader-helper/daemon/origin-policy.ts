/**
 * Which web origins may open a connection to the helper. Production origins are exact https
 * serializations from the configuration; in development mode any http origin on a loopback host
 * (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`) is allowed as well, so the local
 * stack works on whatever port it picked.
 */
import { normalizeOrigin } from '../../protocol/signed-data.js';

const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for an `http:` origin whose host is a loopback name (the development OP). */
export function isLoopbackHttpOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname);
  } catch {
    return false;
  }
}

/** The allow-list consulted for every upgrade's `Origin` header. */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** `allowed` holds exact serialized origins (validated by the configuration loader). */
  constructor(
    allowed: Iterable<string>,
    readonly dev: boolean,
  ) {
    this.allowed = new Set(allowed);
  }

  /** The normalized origin when `header` is allowed, else undefined. */
  accept(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    let origin: string;
    try {
      origin = normalizeOrigin(header);
    } catch {
      return undefined;
    }
    if (origin !== header) return undefined;
    if (this.allowed.has(origin)) return origin;
    return this.dev && isLoopbackHttpOrigin(origin) ? origin : undefined;
  }

  /** What the policy allows, for the start banner. */
  describe(): string[] {
    const listed = [...this.allowed];
    return this.dev ? [...listed, 'http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'] : listed;
  }
}
