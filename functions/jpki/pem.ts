/** PEM and DER input for certificates, CRLs and keys as operators hand them over. */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Raised when input holds no object of the expected PEM label. */
export class PemError extends Error {
  readonly code = 'PEM_INVALID';
  override name = 'PemError';
}

/**
 * The DER objects in `input`: every PEM block with `label` (e.g. "CERTIFICATE") when the input is
 * PEM text, otherwise the input itself as one DER object.
 */
export function decodePemOrDer(input: Uint8Array, label: string): Uint8Array[] {
  const head = Buffer.from(input.subarray(0, 64)).toString('latin1');
  if (!head.includes('-----BEGIN')) {
    if (input.length === 0) throw new PemError('empty input');
    return [input];
  }
  const text = Buffer.from(input).toString('latin1');
  const blocks = [...text.matchAll(PEM_BLOCK)].filter((match) => match[1] === label);
  if (blocks.length === 0) throw new PemError(`no "${label}" PEM block found`);
  return blocks.map(
    (match) => new Uint8Array(Buffer.from((match[2] as string).replace(/\s+/g, ''), 'base64')),
  );
}

/** Encodes DER as PEM text with the given label. */
export function encodePem(der: Uint8Array, label: string): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
