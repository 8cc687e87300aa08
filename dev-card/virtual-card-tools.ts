/**
 * The reader-helper's development tools (see reader-helper/cli/dev-tools.ts): a virtual JPKI card
 * whose identity is loaded from --identity (an identity folder, or a folder created earlier by
 * these commands) or created fresh (a new development PKI) there or in a temporary folder, and a
 * scripted stand-in for the person who types the PIN into the helper's window (scripted logins,
 * the bench, unit tests). Loaded only by `start --virtual-card` and `virtual-card --vpcd` in the
 * source tree; the helper product never imports this folder.
 */
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_FILES } from '../dev-pki/hierarchy.js';
import { USER_AUTH_PIN } from '../protocol/jpki-profile.js';
import type { DevTools } from '../reader-helper/cli/dev-tools.js';
import { UsageError } from '../reader-helper/cli/io.js';
import type { PinEntry, PinPadNotice, PinRequest, PinSecret } from '../reader-helper/pin-entry/pin-entry.js';
import {
  type CardIdentity,
  createVirtualCardIdentity,
  loadIdentity,
} from '../reader-helper/virtual-card/identity.js';
import { InProcessReaderBackend } from '../reader-helper/virtual-card/in-process-backend.js';
import { VirtualJpkiCard } from '../reader-helper/virtual-card/virtual-jpki-card.js';
import { VpcdConnector } from '../reader-helper/virtual-card/vpcd-connector.js';

/** The name of the in-process reader `start --virtual-card` shows. */
export const VIRTUAL_READER_NAME = 'myna-helper virtual reader';

/**
 * One in-process reader named `readerName` holding `identity`'s virtual card (an empty reader
 * without `identity`): what `start --virtual-card`, the local stack and the browser tests use.
 */
export function readerWithVirtualCard(readerName: string, identity?: CardIdentity): InProcessReaderBackend {
  const backend = new InProcessReaderBackend([readerName]);
  if (identity) backend.reader(readerName).insert(new VirtualJpkiCard(identity));
  return backend;
}

/**
 * What a scripted person types: one text for every window, one per secret (the user-auth PIN and
 * the signing password), or what a function of the request resolves to.
 */
export type ScriptedAnswer =
  | string
  | Readonly<Record<PinSecret, string>>
  | ((request: PinRequest) => Promise<string>);

/** The answer of a person who knows `identity`'s PIN and signing password. */
export function knownSecrets(identity: {
  readonly userAuthPin: string;
  readonly signingPin: string;
}): Readonly<Record<PinSecret, string>> {
  return { 'user-auth-pin': identity.userAuthPin, 'signing-password': identity.signingPin };
}

/**
 * The person at the PC, scripted: answers every PIN window with `answer` (see
 * {@link ScriptedAnswer}; a function may also reject with a PinEntryError, as the real window
 * does when the person cancels). Remembers every request (origin, purpose, secret, tries left,
 * language) and every PIN-pad notice. It stands for the person, never for a browser: a test or a
 * scripted login uses it where a desktop would show the helper's dialog.
 */
export class ScriptedPinEntry implements PinEntry {
  readonly kind = 'scripted';
  readonly requests: PinRequest[] = [];
  readonly padNotices: PinRequest[] = [];
  readonly lastTryConfirmations: PinRequest[] = [];

  constructor(private readonly answer: ScriptedAnswer) {}

  async requestPin(request: PinRequest): Promise<string> {
    this.requests.push(request);
    if (typeof this.answer === 'function') return this.answer(request);
    return typeof this.answer === 'string' ? this.answer : this.answer[request.secret];
  }

  /** The person goes on at the last try (PIN-pad readers); recorded in `lastTryConfirmations`. */
  async confirmLastTry(request: PinRequest): Promise<void> {
    this.lastTryConfirmations.push(request);
  }

  showPinPadNotice(request: PinRequest): PinPadNotice {
    this.padNotices.push(request);
    return { cancelled: new Promise<void>(() => {}), close: () => {} };
  }
}

/** A virtual card's identity and where it lives. */
interface VirtualCardSetup {
  readonly identity: CardIdentity;
  readonly identityDir: string;
  /** The user-auth CA files an OP must trust, when this run created the PKI. */
  readonly trustAnchorFiles: readonly string[];
}

/** The development tools, as the helper CLI loads them. */
export const devTools: DevTools = {
  async openVirtualCard(identityDir) {
    const setup = await prepareVirtualCard(identityDir, undefined);
    const backend = readerWithVirtualCard(VIRTUAL_READER_NAME, setup.identity);
    return { backend, notes: notes(setup, `test ${secretsOf(setup.identity)}`) };
  },

  async attachVirtualCardToVpcd({ identityDir, pin, port, onConnection }) {
    const setup = await prepareVirtualCard(identityDir, pin);
    const connector = new VpcdConnector(new VirtualJpkiCard(setup.identity), {
      ...(port === undefined ? {} : { port }),
      onConnection,
    });
    connector.start();
    return { notes: notes(setup, secretsOf(setup.identity)), stop: () => connector.stop() };
  },
};

/** The card's PIN and signing password as the notes show them. */
function secretsOf(identity: CardIdentity): string {
  return `PIN ${identity.userAuthPin}, signing password ${identity.signingPin}`;
}

function notes(setup: VirtualCardSetup, pin: string): string[] {
  return [
    `Virtual card (DEVELOPMENT ONLY): identity ${setup.identityDir}, ${pin}`,
    ...setup.trustAnchorFiles.map((file) => `  trust anchor for the OP: ${file}`),
  ];
}

/** Loads or creates the identity; `pin` replaces its user-auth PIN. */
async function prepareVirtualCard(
  dir: string | undefined,
  pin: string | undefined,
): Promise<VirtualCardSetup> {
  if (pin !== undefined && !USER_AUTH_PIN.pattern.test(pin)) {
    throw new UsageError(`--pin must be ${USER_AUTH_PIN.description}`);
  }
  const setup = (dir === undefined ? undefined : await loadExisting(dir)) ?? (await create(dir, pin));
  return pin === undefined ? setup : { ...setup, identity: { ...setup.identity, userAuthPin: pin } };
}

async function loadExisting(dir: string): Promise<VirtualCardSetup | undefined> {
  for (const candidate of [dir, join(dir, 'identities', 'card')]) {
    if (await exists(join(candidate, IDENTITY_FILES.card))) {
      return { identity: await loadIdentity(candidate), identityDir: candidate, trustAnchorFiles: [] };
    }
  }
  return undefined;
}

async function create(dir: string | undefined, pin: string | undefined): Promise<VirtualCardSetup> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'myna-helper-card-')));
  return createVirtualCardIdentity(target, pin === undefined ? {} : { userAuthPin: pin });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
