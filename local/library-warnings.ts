/**
 * A terminal for people: each library warning appears once, as one line — Node process warnings
 * (instead of Node's own printing with its "--trace-warnings" hint) and oidc-provider's WARNING /
 * NOTICE console lines (helpers/attention.js). console.error and all other output pass untouched,
 * so no error is ever hidden. Install it before importing the libraries: some warn on import.
 */
import { stripVTControlCharacters } from 'node:util';

/** Where the warnings go. */
export type WarningSink = (line: string) => void;

/** Shows each library warning once on `sink` (see the module comment); returns what undoes it. */
export function showLibraryWarningsOnce(sink: WarningSink): () => void {
  const seen = new Set<string>();
  const once = (line: string) => {
    if (seen.has(line)) return;
    seen.add(line);
    sink(line);
  };
  const nodeListeners = process.listeners('warning');
  const onWarning = (warning: Error) =>
    once(`warning: ${warning.name}: ${warning.message.replace(/\s+/g, ' ').trim()}`);
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  const { warn, info } = console;
  const library =
    (original: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      const text = args.map(String).join(' ');
      // oidc-provider colours its lines on a terminal (helpers/attention.js).
      const plain = stripVTControlCharacters(text);
      if (/^oidc-provider (WARNING|NOTICE): /.test(plain)) once(plain);
      else original.apply(console, args);
    };
  console.warn = library(warn);
  console.info = library(info);
  return () => {
    console.warn = warn;
    console.info = info;
    process.off('warning', onWarning);
    for (const listener of nodeListeners) process.on('warning', listener);
  };
}
