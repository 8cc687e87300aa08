/**
 * The entries of one CRL as fixed-size records in one buffer (no object per entry): the 32-byte
 * keyed hash (the certificate key of issuer + serial), the revocation time and the reason. Sorted by
 * key, a set is compared in one merge pass with the previous import's key list, which is kept as
 * the sorted 32-byte keys alone (the "snapshot": 32 MB for a million entries, read in chunks).
 */

/** Bytes of one key: a raw HMAC-SHA-256. */
export const KEY_BYTES = 32;
const RECORD_BYTES = 40;
const RECORD_WORDS = RECORD_BYTES / 4;
const TIME_AT = 32;
const REASON_AT = 36;
/** Keys are uniform, so their first two bytes spread them evenly over this many buckets. */
const BUCKETS = 65_536;

/** Writes the 32-byte key of serial `bytes[start, end)` to `out` at `offset`. */
export type SerialHasher = (
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  offset: number,
) => void;

/** A snapshot: sorted 32-byte keys, in any chunking. */
export type KeyChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** What changed between the previous snapshot and this set. */
export interface KeyDelta {
  /** Indexes (see recordAt) of entries not in the previous snapshot. */
  readonly added: Uint32Array;
  /** Keys of the previous snapshot that are no longer listed, concatenated. */
  readonly removed: Buffer;
  /** Distinct keys in this set. */
  readonly size: number;
}

/** One entry read back from a set. */
export interface RevokedRecord {
  readonly key: Buffer;
  readonly revokedAt: Date;
  readonly reasonCode: number;
}

/** The keyed entries of one CRL; add() everything, then sort(), then diff() and snapshot(). */
export class RevokedSet {
  readonly #records: Buffer;
  readonly #words: Uint32Array;
  readonly #hash: SerialHasher;
  #count = 0;
  #sorted = false;

  /** `capacity` is an upper bound on the entries (untouched capacity costs address space, not memory). */
  constructor(capacity: number, hash: SerialHasher) {
    const buffer = new ArrayBuffer(Math.max(1, capacity) * RECORD_BYTES);
    this.#records = Buffer.from(buffer);
    this.#words = new Uint32Array(buffer);
    this.#hash = hash;
  }

  /** Adds one entry (a CrlEntrySink). */
  readonly add = (bytes: Uint8Array, start: number, end: number, revokedAtMs: number, reasonCode: number) => {
    const at = this.#count * RECORD_BYTES;
    if (at >= this.#records.length) throw new RangeError('more CRL entries than the capacity');
    this.#hash(bytes, start, end, this.#records, at);
    this.#records.writeUInt32BE(Math.max(0, Math.floor(revokedAtMs / 1000)), at + TIME_AT);
    this.#records[at + REASON_AT] = reasonCode;
    this.#count++;
    this.#sorted = false;
  };

  /** Entry `index` (after sort(), in key order). */
  recordAt(index: number): RevokedRecord {
    const at = index * RECORD_BYTES;
    return {
      key: this.#records.subarray(at, at + KEY_BYTES),
      revokedAt: new Date(this.#records.readUInt32BE(at + TIME_AT) * 1000),
      reasonCode: this.#records[at + REASON_AT] as number,
    };
  }

  /** Sorts by key in place: an American-flag pass on the first two bytes, then insertion sort per bucket. */
  sort(): void {
    const records = this.#records;
    const n = this.#count;
    const bucketOf = (index: number) =>
      (records[index * RECORD_BYTES] as number) * 256 + (records[index * RECORD_BYTES + 1] as number);
    const starts = new Uint32Array(BUCKETS + 1);
    for (let i = 0; i < n; i++) {
      const b = bucketOf(i) + 1;
      starts[b] = (starts[b] as number) + 1;
    }
    for (let b = 0; b < BUCKETS; b++) starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
    const next = starts.slice(0, BUCKETS);
    for (let b = 0; b < BUCKETS; b++) {
      const end = starts[b + 1] as number;
      for (let i = next[b] as number; i < end; i = next[b] as number) {
        const target = bucketOf(i);
        if (target === b) next[b] = i + 1;
        else {
          this.#swap(i, next[target] as number);
          next[target] = (next[target] as number) + 1;
        }
      }
    }
    for (let b = 0; b < BUCKETS; b++) {
      const start = starts[b] as number;
      const end = starts[b + 1] as number;
      for (let i = start + 1; i < end; i++) {
        for (
          let j = i;
          j > start && compareKeys(records, (j - 1) * RECORD_BYTES, records, j * RECORD_BYTES) > 0;
          j--
        ) {
          this.#swap(j - 1, j);
        }
      }
    }
    this.#sorted = true;
  }

  /**
   * Compares this (sorted) set with the previous snapshot, given as chunks of sorted 32-byte keys
   * in any chunking; duplicate entries count once.
   */
  async diff(previous: KeyChunks): Promise<KeyDelta> {
    if (!this.#sorted) this.sort();
    const records = this.#records;
    const added = new Uint32Array(this.#count);
    let addedCount = 0;
    const removed: Buffer[] = [];
    let i = this.#firstDistinct(-1);
    let size = 0;
    for await (const keys of alignedChunks(previous)) {
      for (let at = 0; at < keys.length; at += KEY_BYTES) {
        let order = i < this.#count ? compareKeys(records, i * RECORD_BYTES, keys, at) : 1;
        while (order < 0) {
          added[addedCount++] = i;
          size++;
          i = this.#firstDistinct(i);
          order = i < this.#count ? compareKeys(records, i * RECORD_BYTES, keys, at) : 1;
        }
        if (order === 0) {
          size++;
          i = this.#firstDistinct(i);
        } else removed.push(Buffer.from(keys.subarray(at, at + KEY_BYTES)));
      }
    }
    for (; i < this.#count; i = this.#firstDistinct(i)) {
      added[addedCount++] = i;
      size++;
    }
    return { added: added.subarray(0, addedCount), removed: Buffer.concat(removed), size };
  }

  /** The sorted distinct keys, in chunks of at most `keysPerChunk`: the next import's snapshot. */
  *snapshot(keysPerChunk: number): Generator<Buffer> {
    if (!this.#sorted) this.sort();
    let chunk = Buffer.allocUnsafe(keysPerChunk * KEY_BYTES);
    let filled = 0;
    for (let i = this.#firstDistinct(-1); i < this.#count; i = this.#firstDistinct(i)) {
      this.#records.copy(chunk, filled * KEY_BYTES, i * RECORD_BYTES, i * RECORD_BYTES + KEY_BYTES);
      if (++filled === keysPerChunk) {
        yield chunk;
        chunk = Buffer.allocUnsafe(keysPerChunk * KEY_BYTES);
        filled = 0;
      }
    }
    if (filled > 0) yield chunk.subarray(0, filled * KEY_BYTES);
  }

  /** The index after `index` whose key differs from it (the first index for -1). */
  #firstDistinct(index: number): number {
    let next = index + 1;
    while (
      index >= 0 &&
      next < this.#count &&
      compareKeys(this.#records, index * RECORD_BYTES, this.#records, next * RECORD_BYTES) === 0
    ) {
      next++;
    }
    return next;
  }

  #swap(a: number, b: number): void {
    const words = this.#words;
    const x = a * RECORD_WORDS;
    const y = b * RECORD_WORDS;
    for (let k = 0; k < RECORD_WORDS; k++) {
      const t = words[x + k] as number;
      words[x + k] = words[y + k] as number;
      words[y + k] = t;
    }
  }
}

/** Byte-wise order of the 32-byte keys at `a[ai]` and `b[bi]`. */
function compareKeys(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let k = 0; k < KEY_BYTES; k++) {
    const d = (a[ai + k] as number) - (b[bi + k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Chunks re-cut to whole 32-byte keys. */
async function* alignedChunks(chunks: KeyChunks): AsyncGenerator<Uint8Array> {
  let rest: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    const bytes = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % KEY_BYTES);
    if (whole > 0) yield bytes.subarray(0, whole);
    rest = bytes.slice(whole);
  }
  if (rest.length > 0) throw new RangeError('revocation snapshot is not a whole number of keys');
}
