/**
 * A PredecessorSource read from a JSON file, for DEVELOPMENT AND TESTS ONLY: the file holds raw
 * certificate serial numbers (personal data), which production never stores. Format:
 * `{ "<new serial hex>": "<previous serial hex>", … }` in serialHex() form (lower-case hex; leading
 * zero bytes and upper case are accepted and normalised). The file is read on every call, so edits
 * apply at once; a missing file means "no renewals known".
 */
import { readFile } from 'node:fs/promises';
import { type ParsedCertificate, serialHex } from '../jpki/certificate.js';
import type { PredecessorSource } from './account-store.js';

/** A predecessor file that is not a JSON object of serial hex strings. */
export class PredecessorFileError extends Error {
  override name = 'PredecessorFileError';
  readonly code = 'PREDECESSOR_FILE_MALFORMED';
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

/** PredecessorSource over a JSON file of new-serial → previous-serial links; see the module comment. */
export class FilePredecessorSource implements PredecessorSource {
  constructor(private readonly path: string) {}

  async predecessorSerial(certificate: ParsedCertificate): Promise<Uint8Array | undefined> {
    const previous = (await this.links()).get(serialHex(certificate.serialNumber));
    return previous === undefined ? undefined : Buffer.from(previous, 'hex');
  }

  private async links(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new PredecessorFileError(`${this.path} is not valid JSON`, { cause: error });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PredecessorFileError(`${this.path} must hold a JSON object of serial → previous serial`);
    }
    const links = new Map<string, string>();
    for (const [serial, previous] of Object.entries(parsed)) {
      if (!HEX.test(serial) || typeof previous !== 'string' || !HEX.test(previous)) {
        // No serial in the message: the file's contents are personal data.
        throw new PredecessorFileError(`${this.path} has an entry that is not a pair of hex serial numbers`);
      }
      links.set(serialHex(Buffer.from(serial, 'hex')), previous);
    }
    return links;
  }
}
