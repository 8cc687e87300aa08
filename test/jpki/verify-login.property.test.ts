import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DevIdentity } from '../../dev-pki/hierarchy.js';
import { VerificationError } from '../../functions/jpki/errors.js';
import type { TrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { verifyLogin } from '../../functions/jpki/verify-login.js';
import type { RevocationSource } from '../../functions/revocation/revocation-source.js';
import { devPki, newNonce, ORIGIN, signChallenge, userAuthAnchors } from '../support/dev-pki.js';

const GOOD: RevocationSource = { status: async () => ({ status: 'good' }) };
let anchors: TrustAnchors;
let alice: DevIdentity;

/** An edit of a byte string: overwrite, insert, delete or truncate at a position. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(bytes: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % out.length;
    if (edit.kind === 'set') out[at] = edit.byte === out[at] ? (edit.byte + 1) & 0xff : edit.byte;
    else if (edit.kind === 'flip') out[at] = (out[at] as number) ^ (1 << edit.bit);
    else if (edit.kind === 'insert')
      out = Buffer.concat([out.subarray(0, at), Buffer.of(edit.byte), out.subarray(at)]);
    else if (edit.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out = out.subarray(0, at);
  }
  return out;
}

async function outcome(certificate: Uint8Array, signature: Uint8Array, nonce: string): Promise<string> {
  try {
    await verifyLogin(
      { certificate, signature },
      { origin: ORIGIN, nonce },
      {
        trustAnchors: anchors,
        now: new Date(),
        clockSkewSeconds: 0,
        revocation: GOOD,
        certificateKeySecret: Buffer.alloc(32),
      },
    );
    return 'accepted';
  } catch (error) {
    if (error instanceof VerificationError) return error.code;
    throw error;
  }
}

beforeAll(async () => {
  const pki = await devPki();
  anchors = userAuthAnchors(pki);
  alice = pki.identities[0] as DevIdentity;
});

describe('mutated login answers', () => {
  it('are never accepted and only ever refused with a VerificationError (certificate bytes)', async () => {
    const nonce = newNonce();
    const signature = signChallenge(alice.userAuth.privateKeyPem, ORIGIN, nonce);
    expect(await outcome(alice.userAuth.der, signature, nonce)).toBe('accepted');
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (edits) => {
        const mutated = apply(alice.userAuth.der, edits);
        if (Buffer.compare(mutated, alice.userAuth.der) === 0) return;
        const result = await outcome(mutated, signature, nonce);
        seen.add(result);
        expect(result).not.toBe('accepted');
      }),
      { numRuns: 3000 },
    );
    expect(seen.has('CERTIFICATE_MALFORMED')).toBe(true);
    expect(seen.has('ISSUER_UNTRUSTED')).toBe(true);
  });

  it('are never accepted and only ever refused with a VerificationError (signature bytes)', async () => {
    const nonce = newNonce();
    const signature = signChallenge(alice.userAuth.privateKeyPem, ORIGIN, nonce);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const mutated = apply(signature, edits);
        if (Buffer.compare(mutated, signature) === 0) return;
        expect(['SIGNATURE_MALFORMED', 'CHALLENGE_SIGNATURE_INVALID']).toContain(
          await outcome(alice.userAuth.der, mutated, nonce),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes of any length are refused with a VerificationError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.uint8Array({ maxLength: 300 }),
        async (cert, sig) => {
          expect(await outcome(cert, sig, newNonce())).not.toBe('accepted');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
