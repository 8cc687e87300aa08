/**
 * The refusal memory behind the status page: only serialized web origins are shown as sites,
 * one entry per site with a count and the last time and reason, bounded.
 */
import { describe, expect, it } from '@jest/globals';
import {
  MAX_REMEMBERED_REFUSALS,
  NO_ORIGIN,
  NOT_A_WEB_ORIGIN,
  RefusalLog,
} from '../../../reader-helper/daemon/refusals.js';
import { renderStatusPage } from '../../../reader-helper/daemon/status-page.js';

function clock(): () => Date {
  let tick = 0;
  return () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++));
}

describe('the refusal log', () => {
  it('records an Origin header only when it is a web origin exactly as browsers send it', () => {
    const log = new RefusalLog(clock());
    log.record('https://evil.example', 'ORIGIN_REFUSED');
    log.record('https://evil.example/<script>', 'ORIGIN_REFUSED');
    log.record('HTTPS://EVIL.example', 'ORIGIN_REFUSED');
    log.record('null', 'ORIGIN_REFUSED');
    log.record(undefined, 'ORIGIN_MISSING');
    expect(log.recent().map((refusal) => refusal.site)).toEqual([
      NO_ORIGIN,
      NOT_A_WEB_ORIGIN,
      'https://evil.example',
    ]);
    expect(log.recent()[1]?.count).toBe(3);
  });

  it('keeps one entry per site with its count, last time and last reason, most recent first', () => {
    const log = new RefusalLog(clock());
    log.record('https://a.example', 'ORIGIN_REFUSED');
    log.record('https://b.example', 'ORIGIN_REFUSED');
    log.record('https://a.example', 'HOST_REFUSED');
    expect(log.recent()).toEqual([
      { site: 'https://a.example', count: 2, reason: 'HOST_REFUSED', time: new Date('2026-01-01T00:00:02Z') },
      {
        site: 'https://b.example',
        count: 1,
        reason: 'ORIGIN_REFUSED',
        time: new Date('2026-01-01T00:00:01Z'),
      },
    ]);
  });

  it(`remembers the ${MAX_REMEMBERED_REFUSALS} most recently refused sites`, () => {
    const log = new RefusalLog(clock());
    for (let index = 0; index <= MAX_REMEMBERED_REFUSALS; index += 1) {
      log.record(`https://site${index}.example`, 'ORIGIN_REFUSED');
    }
    const sites = log.recent().map((refusal) => refusal.site);
    expect(sites).toHaveLength(MAX_REMEMBERED_REFUSALS);
    expect(sites[0]).toBe(`https://site${MAX_REMEMBERED_REFUSALS}.example`);
    expect(sites).not.toContain('https://site0.example');
  });
});

describe('refusals and sites on the status page', () => {
  const log = new RefusalLog(clock());
  log.record('https://login.example.jp', 'HOST_REFUSED');
  log.record('https://evil.example', 'ORIGIN_REFUSED');
  log.record('https://evil.example', 'ORIGIN_REFUSED');
  log.record('https://phish.example', 'RETURN_ORIGIN_REFUSED');
  log.record('https://shop.example', 'RETURN_INVALID');
  const model = {
    helperVersion: '1.0.0',
    protocolVersion: 2,
    readers: [],
    busy: false,
    pinEntry: 'zenity',
    allowedSites: ['https://login.example.jp', 'http://localhost:3000'],
    refusals: log.recent(),
  };

  it('shows why and how often, and never advises adding a site already set up', () => {
    const html = renderStatusPage(model, 'en');
    expect(html).toContain('<td><code>https://evil.example</code></td><td>2</td><td>not set up</td>');
    expect(html).toMatch(
      /<td><code>https:\/\/login\.example\.jp<\/code><\/td><td>1<\/td><td>connected by a name other than 127\.0\.0\.1[^<]* — already set up: nothing to add/,
    );
    expect(renderStatusPage(model, 'ja')).toContain('設定済みです。追加は不要です。');
  });

  it('shows the return addresses the navigation path refused, in both languages', () => {
    const html = renderStatusPage(model, 'en');
    expect(html).toContain(
      '<td><code>https://phish.example</code></td><td>1</td><td>not set up (sent you to the card helper to sign in)</td>',
    );
    expect(html).toContain('a return address that is not a sign-in page (nothing was signed)');
    expect(renderStatusPage(model, 'ja')).toContain(
      'サインインページではない戻り先を指定してカード読み取りアプリへ移動させた',
    );
  });

  it('says where the PIN is entered: the helper’s own window', () => {
    expect(renderStatusPage(model, 'en')).toContain('Only in the card helper’s own window (zenity)');
    expect(renderStatusPage(model, 'ja')).toContain('カード読み取りアプリ自身の画面（zenity）だけです。');
  });

  it('warns visibly, in both languages, about a plain-http site', () => {
    const html = renderStatusPage(model, 'en');
    expect(html).toContain(
      '<li><code>http://localhost:3000</code> <strong class="warn">Warning: plain http, for development only.',
    );
    expect(html).toContain('<li><code>https://login.example.jp</code></li>');
    expect(renderStatusPage(model, 'ja')).toContain(
      '<li><code>http://localhost:3000</code> <strong class="warn">警告：暗号化されていない http',
    );
  });

  it('tells how to restart the running helper instead of starting a second one', () => {
    for (const lang of ['en', 'ja'] as const) {
      const html = renderStatusPage(model, lang);
      expect(html).toContain('<code>systemctl --user restart myna-helper.service</code>');
      expect(html).not.toContain('myna-helper start');
    }
  });
});
