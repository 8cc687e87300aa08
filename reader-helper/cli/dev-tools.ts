/**
 * The development commands' tools (`start --virtual-card`, `virtual-card --vpcd`): a virtual JPKI
 * card with a development PKI. They live outside the helper product, in the source tree's
 * `dev-card/`, and are loaded only when one of those commands runs; the installed helper (npm
 * package, single executable, .deb) has none and says so.
 */
import type { ReaderBackend } from '../card/reader-backend.js';

/** What the development commands need. */
export interface DevTools {
  /** An in-process reader holding a virtual card; `notes` say what it is (DEVELOPMENT ONLY, PIN, trust anchors). */
  openVirtualCard(identityDir: string | undefined): Promise<{ backend: ReaderBackend; notes: string[] }>;
  /** Puts a virtual card into pcscd through vpcd until `stop()`. */
  attachVirtualCardToVpcd(options: {
    readonly identityDir: string | undefined;
    readonly pin: string | undefined;
    /** vpcd's port; default 35963 (the first virtual reader). */
    readonly port: number | undefined;
    readonly onConnection: (connected: boolean) => void;
  }): Promise<{ notes: string[]; stop(): void }>;
}

/** Raised when a development command runs in the installed helper. */
export class DevToolsMissingError extends Error {
  override name = 'DevToolsMissingError';
  readonly code = 'DEV_TOOLS_MISSING';
  constructor() {
    super(
      'the virtual card is a development tool and is not part of the installed helper; ' +
        'run it from a myna-oidc source checkout (npx myna-helper ...)',
    );
  }
}

/** Loads the tools, or throws DevToolsMissingError when this build has none. */
export async function requireDevTools(load: (() => Promise<DevTools>) | undefined): Promise<DevTools> {
  if (load === undefined) throw new DevToolsMissingError();
  return load();
}
