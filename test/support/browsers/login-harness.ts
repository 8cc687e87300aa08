/**
 * Everything a full login in a real browser engine needs, started for one test file: the local
 * stack (dynalite; the OP on https at `https://login.test:<port>` from 127.0.0.2, a public site
 * to the browsers; the demo RP; the real reader-helper daemon, which allow-lists that origin),
 * a virtual card (behind the real pcscd + vpcd, or in the helper's process), and the person at
 * the PC: the helper's real native PIN window (createPinEntry) on a private Xvfb, answered with
 * xdotool (PinDialogUser). The helper's own log tells which path a login took: a WebSocket
 * connection, or an `authenticate` on the navigation path. `close()` stops everything, by PID.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';
import { fetchStatus } from '../../../reader-helper/cli/status.js';
import { createLogger, type LogFields, type Logger, type LogLevel } from '../../../reader-helper/log.js';
import { PcscReaderBackend } from '../../../reader-helper/pcsc/pcsc-backend.js';
import { createPinEntry } from '../../../reader-helper/pin-entry/pin-entry.js';
import { type CardIdentity, loadIdentity } from '../../../reader-helper/virtual-card/identity.js';
import { VirtualJpkiCard } from '../../../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../../../reader-helper/virtual-card/vpcd-connector.js';
import { freePort } from '../browser.js';
import { ensurePcscd, VPCD_READER, waitFor } from '../pcscd.js';
import { PinDialogUser } from '../pin-dialog-user.js';
import { startXvfb, type XDisplay } from '../xvfb.js';
import { type PublicSite, preparePublicSite } from './public-site.js';

/** One line of the helper's log. */
export interface HelperLogEntry {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

/** The helper's log as it was written, and what it says about the paths logins took. */
export class HelperLog implements Logger {
  readonly #entries: HelperLogEntry[] = [];
  readonly #stderr = createLogger({ level: 'warn' });

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    this.#entries.push({ level, msg, fields });
    this.#stderr.log(level, msg, fields);
  }

  /** A mark for "from now on". */
  mark(): number {
    return this.#entries.length;
  }

  /** WebSocket connections the helper accepted since `mark`. */
  webSocketConnections(mark = 0): number {
    return this.#entries.slice(mark).filter((entry) => entry.msg === 'connection accepted').length;
  }

  /** `authenticate` operations the helper ran since `mark`, by the path that asked. */
  authentications(mark = 0): { readonly websocket: number; readonly navigation: number } {
    return this.#operationsByPath('authenticate', mark);
  }

  /** `verify-identity` operations the helper ran since `mark`, by the path that asked. */
  identityVerifications(mark = 0): { readonly websocket: number; readonly navigation: number } {
    return this.#operationsByPath('verify identity', mark);
  }

  #operationsByPath(msg: string, mark: number): { readonly websocket: number; readonly navigation: number } {
    const started = this.#entries.slice(mark).filter((entry) => entry.msg === msg);
    return {
      websocket: started.filter((entry) => entry.fields.path === 'websocket').length,
      navigation: started.filter((entry) => entry.fields.path === 'navigation').length,
    };
  }

  /** The last few entries, for a failure message (the helper logs no PIN and no certificate, only a short hash). */
  describeRecent(count = 6): string {
    return this.#entries
      .slice(-count)
      .map(({ msg, fields }) => `${msg} ${JSON.stringify(fields)}`)
      .join(' | ');
  }
}

/** Where the virtual card sits: behind the real pcscd + vpcd, or in the helper's process. */
export type CardPlacement = 'pcscd' | 'in-process';

/** A running harness. */
export interface EngineLoginHarness {
  readonly site: PublicSite;
  readonly stack: LocalStack;
  /** The RP's signed-in page (where a login ends). */
  readonly rpHome: string;
  readonly identity: CardIdentity;
  readonly helperLog: HelperLog;
  /** The display of the helper's PIN windows (and of WebKit's MiniBrowser). */
  readonly display: XDisplay;
  /** The person at the PC, at the helper's PIN window. */
  readonly person: PinDialogUser;
  close(): Promise<void>;
}

/** Starts the harness; on a failure part-way, stops what had started and rethrows. */
export async function startEngineLoginHarness(
  options: { readonly card?: CardPlacement } = {},
): Promise<EngineLoginHarness> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    const failures: unknown[] = [];
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'stopping the login harness failed');
  };
  try {
    const site = await preparePublicSite();
    closers.push(() => site.remove());
    const dataDir = await mkdtemp(join(tmpdir(), 'myna-engines-'));
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    const display = await startXvfb();
    closers.push(() => display.stop());
    const helperPort = await freePort();
    const pcscd = options.card === 'pcscd' ? await ensurePcscd() : undefined;
    if (pcscd?.owned) closers.push(() => pcscd.stop());
    const helperLog = new HelperLog();
    const pinEntry = createPinEntry({ env: display.env });
    if (pinEntry.kind === 'none') {
      throw new Error(
        'the helper has no PIN window to show: apt-get install zenity (and xdotool, which types into it)',
      );
    }
    const stack = await startLocalStack({
      dataDir,
      opPort: site.port,
      rpPort: await freePort(),
      dynamoPort: 0,
      helperPort,
      https: site.stackHttps,
      // Default: the in-process reader with the stack's virtual card.
      readers: pcscd ? new PcscReaderBackend() : undefined,
      pinEntry,
      helperLogger: helperLog,
      log: () => {},
    });
    closers.push(() => stack.close());
    const identity = await loadIdentity(stack.identityDir);
    if (pcscd) {
      // The card answers vpcd on this process's event loop while the helper's PC/SC disconnect is
      // synchronous: the card goes out before the helper stops (see test/e2e/browser.test.ts).
      const card = new VpcdConnector(new VirtualJpkiCard(identity));
      card.start();
      closers.push(() => card.stop());
      let seen = '';
      await waitFor(async () => {
        const { readers } = await fetchStatus(helperPort);
        seen = readers.map((reader) => `${reader.name}: ${reader.card}`).join(', ') || 'no readers';
        return readers.some((reader) => reader.name === VPCD_READER && reader.card === 'jpki');
      }, `the helper to see the virtual card in ${VPCD_READER} through pcscd`).catch((error: Error) => {
        throw new Error(`${error.message}; it sees ${seen} (is another test using pcscd/vpcd?)`);
      });
    }
    return {
      site,
      stack,
      rpHome: `${stack.rpUrl}/`,
      identity,
      helperLog,
      display,
      person: new PinDialogUser(display),
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
