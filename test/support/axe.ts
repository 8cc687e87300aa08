/**
 * Accessibility checks with axe-core (Deque's engine, the devDependency `axe-core`) in a real
 * Chromium page. axe's source is evaluated through the DevTools protocol (Playwright's
 * page.evaluate), which the page's Content-Security-Policy does not govern: the page is checked
 * under the very CSP it is served with (no `bypassCSP`, no added script tag), and a page that
 * breaks its own CSP still shows as such (cspViolations).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeSource: Promise<string> | undefined;

/** One axe violation, as a test failure shows it: the rule, why, and where. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * The axe violations of `page` as it is now (WCAG 2.x A and AA, and axe's best practices).
 * An empty list means axe found nothing to fix.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(AXE_PATH, 'utf8');
  const source = await axeSource;
  const injected = await page.evaluate(`${source}\n;typeof window.axe === 'object'`);
  if (injected !== true) throw new Error('axe-core did not load into the page');
  const results = (await page.evaluate(`axe.run(document, ${JSON.stringify(AXE_OPTIONS)})`)) as AxeResults;
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact ?? null,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(' ')),
  }));
}

/** What axe checks: WCAG 2.0–2.2 A and AA, and its best practices; only violations are reported. */
const AXE_OPTIONS = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  resultTypes: ['violations'],
};

/** The part of axe's results the check reads. */
interface AxeResults {
  readonly violations: readonly {
    id: string;
    impact?: string | null;
    help: string;
    nodes: readonly { target: readonly string[] }[];
  }[];
}

/**
 * Starts recording the page's Content-Security-Policy violations (the `securitypolicyviolation`
 * events of every document it loads from now on); call before the first navigation.
 */
export async function recordCspViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('__mynaCspViolation', (text: string) => violations.push(text));
  await page.addInitScript(
    `document.addEventListener('securitypolicyviolation', (event) => window.__mynaCspViolation(
      event.violatedDirective + ' ' + event.blockedURI + ' at ' + document.location.pathname))`,
  );
  return violations;
}
