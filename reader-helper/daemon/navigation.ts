/**
 * The navigation path: a sign-in or an identity verification without a WebSocket (Safari blocks
 * ws://127.0.0.1 from an https page as mixed content; other browsers may block it behind a
 * permission). The login page navigates top-level to `GET /authenticate?nonce=&return=&lang=`
 * (and `&purpose=verify-identity` for an identity verification); the helper starts the card
 * operation in the same single slot as WebSocket sessions (the person enters the PIN in the
 * helper's own window) and answers at once `303 /authenticate/wait?op=<id>`, so the browser holds
 * the operation's id from the start (a reload does not start a second one). Each wait GET is held
 * up to `holdMs`. When the operation has finished it answers
 * `303 Location: <return address>#myna-answer=<answer>`; until then its waiting page, which
 * refreshes to the wait URL at once and links to `/authenticate/cancel?op=<id>`. The waiting page
 * always has a wait GET pending while the browser shows it; when none has been for `abandonMs`
 * (Esc, reload elsewhere, tab closed, Back), the browser left: the operation is cancelled and its
 * PIN window closed, so nothing typed there is signed for nobody and the slot is free again.
 *
 * The origin the card signs for is taken from the return address, which must be exactly
 * `<allowed origin>/interaction/<uid>/card-answer` (the same OriginPolicy as a WebSocket Origin;
 * no query, fragment, userinfo, default port, dot segment or other spelling: the string must be
 * the URL's own serialization). Any other return address gets a page saying nothing was signed,
 * is remembered for the status page, and gets no redirect at all. So a page that sends a person
 * here with a return address of its choice can only ever have an answer delivered to an allowed
 * site's card-answer page, in the person's own browser, where its interaction cookie decides.
 * Results are collected once; an answer not collected within `keepResultMs` is dropped.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AUTHENTICATE_CANCEL_PATH,
  AUTHENTICATE_PATH,
  AUTHENTICATE_WAIT_PATH,
  CARD_ANSWER_PATH,
  type CardAnswer,
  type CardOperationPurpose,
  type ErrorCardAnswer,
  encodeCardAnswer,
  type HelperLanguage,
  type ProgressStep,
  PURPOSE_PARAMETER,
} from '../../protocol/helper-protocol.js';
import { isValidNonce } from '../../protocol/signed-data.js';
import { CardError } from '../card/card-error.js';
import {
  type Authentication,
  authenticateInSlot,
  type DaemonContext,
  failureOf,
  verifyIdentityInSlot,
} from './authentication.js';
import { HELPER_PAGE_HEADERS, pageLanguage } from './helper-page.js';
import { type NavigationPage, renderNavigationPage } from './navigation-page.js';
import type { OriginPolicy } from './origin-policy.js';
import type { RefusalLog } from './refusals.js';
import { checkNavigationRequest, type RefusalReason } from './upgrade-guard.js';

/** How long one GET of the navigation path waits for the operation before the waiting page. */
export const NAVIGATION_HOLD_MS = 20_000;
/** How long a finished operation's answer waits to be collected. */
export const NAVIGATION_KEEP_RESULT_MS = 60_000;
/**
 * How long an operation may go without a pending wait GET before it counts as abandoned: the
 * waiting page's refresh asks again at once, a redirect is followed at once; 3 s leaves room for
 * a slow machine between two requests.
 */
export const NAVIGATION_ABANDON_MS = 3_000;
/** At most this many operations are remembered (finished ones waiting to be collected, at most one running). */
const MAX_OPERATIONS = 16;

/** The navigation path's paths. */
export const NAVIGATION_PATHS: ReadonlySet<string> = new Set([
  AUTHENTICATE_PATH,
  AUTHENTICATE_WAIT_PATH,
  AUTHENTICATE_CANCEL_PATH,
]);

/** The navigation path's timing (tests shorten it). */
export interface NavigationTimings {
  readonly holdMs: number;
  readonly keepResultMs: number;
  readonly abandonMs: number;
}

/** A return address the helper answers to, or why it does not. */
export type ReturnAddressCheck =
  | { readonly ok: true; readonly returnUrl: string; readonly origin: string }
  | {
      readonly ok: false;
      readonly reason: Extract<RefusalReason, 'RETURN_ORIGIN_REFUSED' | 'RETURN_INVALID'>;
      /** The address's site (see returnSite), for the refusal log and the page. */
      readonly site: string | undefined;
    };

/**
 * Checks `value` (the `return` parameter): exactly the serialization of an http(s) URL whose path
 * is the card-answer path and whose origin `policy` accepts.
 */
export function checkReturnAddress(value: string | null, policy: OriginPolicy): ReturnAddressCheck {
  const site = returnSite(value);
  let url: URL;
  try {
    url = new URL(value ?? '');
  } catch {
    return { ok: false, reason: 'RETURN_INVALID', site };
  }
  const exact =
    (url.protocol === 'https:' || url.protocol === 'http:') && value === `${url.origin}${url.pathname}`;
  if (!exact || !CARD_ANSWER_PATH.test(url.pathname)) return { ok: false, reason: 'RETURN_INVALID', site };
  const origin = policy.accept(url.origin);
  if (origin === undefined) return { ok: false, reason: 'RETURN_ORIGIN_REFUSED', site };
  return { ok: true, returnUrl: value, origin };
}

/** One sign-in or identity verification started by a navigation. */
class NavigationOperation {
  readonly id = randomBytes(16).toString('base64url');
  step: ProgressStep | undefined;
  answer: CardAnswer | undefined;
  private readonly waiters = new Set<(answer: CardAnswer) => void>();
  private abandonTimer: NodeJS.Timeout | undefined;

  /** `abandoned` runs when, before the answer, no wait GET has been pending for `abandonMs`. */
  constructor(
    readonly origin: string,
    readonly returnUrl: string,
    readonly nonce: string,
    readonly language: HelperLanguage,
    readonly purpose: CardOperationPurpose,
    private readonly abandonment: { readonly ms: number; readonly abandoned: () => void },
  ) {
    this.watchAbandonment();
  }

  /** Records the error answer for `code` (the first answer counts). */
  fail(code: ErrorCardAnswer['error']['code'], triesLeft?: number): void {
    const error = triesLeft === undefined ? { code } : { code, triesLeft };
    this.finish(
      this.purpose === 'verify-identity'
        ? { v: 2, nonce: this.nonce, purpose: this.purpose, error }
        : { v: 2, nonce: this.nonce, error },
    );
  }

  /** Records the answer (the first one counts) and hands it to the oldest waiting GET. */
  finish(answer: CardAnswer): void {
    if (this.answer) return;
    this.answer = answer;
    this.stopWatching();
    const [first] = this.waiters;
    first?.(answer);
  }

  /** Stops the abandonment timer (the answer is in, or the daemon stops). */
  stopWatching(): void {
    clearTimeout(this.abandonTimer);
    this.abandonTimer = undefined;
  }

  /** Starts the abandonment timer when no wait GET is pending and the operation still runs. */
  private watchAbandonment(): void {
    if (this.answer || this.waiters.size > 0 || this.abandonTimer) return;
    this.abandonTimer = setTimeout(() => {
      this.abandonTimer = undefined;
      if (!this.answer && this.waiters.size === 0) this.abandonment.abandoned();
    }, this.abandonment.ms);
  }

  /** Resolves with the answer, or undefined when none came within `ms` or `response` closed. */
  waitFor(response: ServerResponse, ms: number): Promise<CardAnswer | undefined> {
    if (this.answer) return Promise.resolve(this.answer);
    return new Promise((resolve) => {
      const done = (answer: CardAnswer | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        response.off('close', gone);
        this.watchAbandonment();
        resolve(answer);
      };
      const gone = () => done(undefined);
      const timer = setTimeout(gone, ms);
      this.stopWatching();
      this.waiters.add(done);
      response.once('close', gone);
    });
  }
}

/** Serves the navigation path's three GETs. */
export class NavigationPath {
  private readonly operations = new Map<string, NavigationOperation>();
  private readonly expiries = new Set<NodeJS.Timeout>();

  constructor(
    private readonly context: DaemonContext,
    private readonly policy: OriginPolicy,
    private readonly refusals: RefusalLog,
    private readonly timings: NavigationTimings,
  ) {}

  /** Answers `request` for one of NAVIGATION_PATHS; `port` is the daemon's. */
  serve(request: IncomingMessage, response: ServerResponse, url: URL, port: number): Promise<void> | void {
    const lang = pageLanguage(url, request.headers['accept-language']);
    const statusPageUrl = `http://127.0.0.1:${port}/`;
    const refused = checkNavigationRequest(request.headers, port);
    if (refused) {
      this.refuse(refused.reason, returnSite(url.searchParams.get('return')), url.pathname);
      const page: NavigationPage =
        refused.reason === 'HOST_REFUSED' ? { kind: 'host-refused', port } : { kind: 'not-navigation' };
      return this.page(response, 403, page, lang);
    }
    if (request.method !== 'GET') return void response.writeHead(405, { allow: 'GET' }).end();
    const operation = this.operations.get(url.searchParams.get('op') ?? '');
    switch (url.pathname) {
      case AUTHENTICATE_PATH:
        return this.start(response, url, lang, statusPageUrl);
      case AUTHENTICATE_WAIT_PATH:
        if (!operation) return this.page(response, 404, { kind: 'gone', statusPageUrl }, lang);
        return this.hold(response, operation);
      default:
        if (!operation) return this.page(response, 404, { kind: 'gone', statusPageUrl }, lang);
        return this.cancel(response, operation);
    }
  }

  /** Cancels the running operation and forgets every answer (the daemon stops). */
  close(): void {
    for (const operation of this.operations.values()) {
      operation.stopWatching();
      this.context.slot.cancel(operation);
    }
    this.operations.clear();
    for (const timer of this.expiries) clearTimeout(timer);
    this.expiries.clear();
  }

  private start(response: ServerResponse, url: URL, lang: HelperLanguage, statusPageUrl: string) {
    const checked = checkReturnAddress(url.searchParams.get('return'), this.policy);
    if (!checked.ok) {
      this.refuse(checked.reason, checked.site, url.pathname);
      return this.page(
        response,
        400,
        { kind: 'refused', reason: checked.reason, site: checked.site, statusPageUrl },
        lang,
      );
    }
    const nonce = url.searchParams.get('nonce');
    const purpose = purposeOf(url.searchParams.get(PURPOSE_PARAMETER));
    if (!isValidNonce(nonce) || purpose === undefined) {
      this.context.logger.log('info', 'request refused', {
        origin: checked.origin,
        code: 'BAD_REQUEST',
        path: 'navigation',
      });
      return this.page(
        response,
        400,
        { kind: 'incomplete', origin: checked.origin, returnUrl: checked.returnUrl },
        lang,
      );
    }
    const asked = url.searchParams.get('lang');
    const language: HelperLanguage = asked === 'ja' || asked === 'en' ? asked : lang;
    const operation: NavigationOperation = new NavigationOperation(
      checked.origin,
      checked.returnUrl,
      nonce,
      language,
      purpose,
      { ms: this.timings.abandonMs, abandoned: () => this.abandoned(operation) },
    );
    this.remember(operation);
    this.run(operation)
      .then(
        (answer) => operation.finish(answer),
        (error: unknown) => {
          const { code, triesLeft } = failureOf(error, this.context.logger, operation.origin);
          operation.fail(code, triesLeft);
        },
      )
      .finally(() => this.expireLater(operation));
    // The browser learns the operation's id at once: every later GET names it.
    response.writeHead(303, {
      ...HELPER_PAGE_HEADERS,
      location: `${AUTHENTICATE_WAIT_PATH}?op=${operation.id}&lang=${language}`,
      'content-length': 0,
    });
    response.end();
  }

  /** Runs `operation`'s card operation in the slot: its answer, or a CardError. */
  private async run(operation: NavigationOperation): Promise<CardAnswer> {
    const { nonce, purpose } = operation;
    const authentication: Authentication = {
      id: operation.id,
      origin: operation.origin,
      nonce,
      language: operation.language,
      path: 'navigation',
      onProgress: (step) => {
        operation.step = step;
      },
    };
    if (purpose === 'sign-in') {
      return { v: 2, nonce, ...(await authenticateInSlot(this.context, operation, authentication)) };
    }
    return { v: 2, nonce, purpose, ...(await verifyIdentityInSlot(this.context, operation, authentication)) };
  }

  /** No wait GET for `operation` for abandonMs: the browser left; the PIN window closes. */
  private abandoned(operation: NavigationOperation): void {
    this.context.logger.log('info', 'navigation abandoned', { origin: operation.origin });
    const left = new CardError('CANCELLED', 'the browser left the card helper’s page');
    this.context.slot.cancel(operation, undefined, left);
  }

  /** Waits up to holdMs for the answer: 303 to the return address with it, else the waiting page. */
  private async hold(response: ServerResponse, operation: NavigationOperation): Promise<void> {
    const answer = await operation.waitFor(response, this.timings.holdMs);
    if (response.destroyed) return;
    if (!answer) {
      const page: NavigationPage = {
        kind: 'waiting',
        origin: operation.origin,
        purpose: operation.purpose,
        step: operation.step,
        operationId: operation.id,
      };
      return this.page(response, 200, page, operation.language);
    }
    this.operations.delete(operation.id);
    response.writeHead(303, {
      ...HELPER_PAGE_HEADERS,
      location: `${operation.returnUrl}#${encodeCardAnswer(answer)}`,
      'content-length': 0,
    });
    response.end();
  }

  /** The person's "Cancel and go back": the window closes, and the page gets USER_CANCELLED (never a signature). */
  private cancel(response: ServerResponse, operation: NavigationOperation): Promise<void> {
    const cancelled = new CardError('USER_CANCELLED', 'the person cancelled on the helper’s page');
    this.context.slot.cancel(operation, undefined, cancelled);
    operation.answer = undefined;
    operation.fail('USER_CANCELLED');
    return this.hold(response, operation);
  }

  private remember(operation: NavigationOperation): void {
    for (const [id, old] of this.operations) {
      if (this.operations.size < MAX_OPERATIONS) break;
      if (old.answer) this.operations.delete(id);
    }
    this.operations.set(operation.id, operation);
  }

  /** Drops the answer if it is not collected within keepResultMs. */
  private expireLater(operation: NavigationOperation): void {
    const timer = setTimeout(() => {
      this.expiries.delete(timer);
      this.operations.delete(operation.id);
    }, this.timings.keepResultMs);
    this.expiries.add(timer);
  }

  private refuse(reason: RefusalReason, site: string | undefined, path: string): void {
    this.context.logger.log('warn', 'navigation refused', { reason, site: site?.slice(0, 200), path });
    this.refusals.record(site, reason);
  }

  private page(response: ServerResponse, status: number, page: NavigationPage, lang: HelperLanguage): void {
    response.writeHead(status, {
      ...HELPER_PAGE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-language': lang,
    });
    response.end(renderNavigationPage(page, lang));
  }
}

/** The `purpose` parameter's operation (absent: a sign-in), or undefined for an unknown one. */
function purposeOf(value: string | null): CardOperationPurpose | undefined {
  if (value === null) return 'sign-in';
  return value === 'sign-in' || value === 'verify-identity' ? value : undefined;
}

/**
 * The site a return address names: its origin as the URL parser sees it, or the text itself when
 * it has none (the refusal log then shows "(not a web origin)"); undefined when there is none.
 */
export function returnSite(value: string | null): string | undefined {
  if (value === null) return undefined;
  try {
    const { origin } = new URL(value);
    return origin === 'null' ? value : origin;
  } catch {
    return value;
  }
}
