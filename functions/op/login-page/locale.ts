/** Picks the page language: the OIDC `ui_locales` request parameter first, then Accept-Language. */
import { LOCALES, type Locale } from './messages.js';

const DEFAULT_LOCALE: Locale = 'ja';

function supported(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return LOCALES.find((locale) => locale === primary);
}

/**
 * The first supported language of `uiLocales` (space-separated, in preference order), else the
 * highest-weighted supported one of `acceptLanguage`, else Japanese.
 */
export function negotiateLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  for (const tag of uiLocales?.split(' ') ?? []) {
    const locale = supported(tag);
    if (locale) return locale;
  }
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((entry, index) => {
      const [tag = '', ...params] = entry.split(';');
      const q = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)?.[1]).find(Boolean);
      return { locale: supported(tag), weight: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.locale && entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  return ranked[0]?.locale ?? DEFAULT_LOCALE;
}
