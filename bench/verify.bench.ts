/**
 * Login verification cost against its floor, in one run: `verify_us_p50` is the full verifier on a
 * valid answer (trust anchors and CRLs loaded once); `verify_floor_us` is the two RSA-2048
 * verifications no verifier can avoid (CA signature on the leaf, card signature on the challenge),
 * with node:crypto and keys already imported.
 */

import { createPublicKey, createSign, randomBytes, verify } from 'node:crypto';
import { parseCertificate } from '../functions/jpki/certificate.js';
import { verifyLogin } from '../functions/jpki/verify-login.js';
import { challengeSignedData } from '../protocol/signed-data.js';
import { createBenchPki } from './bench-pki.js';
import { percentile, report, sampleMicros } from './report.js';

const RUNS = 5000;
const WARMUP = 2000;
const ORIGIN = 'https://login.example.jp';

/** Prints verify_us_p50, verify_floor_us and verify_ratio (target ≤ 2.0). */
export async function runVerifyBench(): Promise<void> {
  const { alice, trustAnchors, revocation } = await createBenchPki();
  const nonce = randomBytes(32).toString('base64url');
  const signedData = challengeSignedData(ORIGIN, nonce);
  const signature = createSign('sha256').update(signedData).sign(alice.userAuth.privateKeyPem);
  const context = {
    trustAnchors,
    now: new Date(),
    clockSkewSeconds: 60,
    revocation,
    certificateKeySecret: randomBytes(32),
  };

  const full = await sampleMicros(
    () => verifyLogin({ certificate: alice.userAuth.der, signature }, { origin: ORIGIN, nonce }, context),
    RUNS,
    WARMUP,
  );

  const leaf = parseCertificate(alice.userAuth.der);
  const caKey = createPublicKey(alice.userAuthCa.pem);
  const leafKey = createPublicKey(alice.userAuth.privateKeyPem);
  const floor = await sampleMicros(
    () => {
      if (
        !verify('sha256', leaf.tbs, caKey, leaf.signatureValue) ||
        !verify('sha256', signedData, leafKey, signature)
      ) {
        throw new Error('floor verification failed');
      }
    },
    RUNS,
    WARMUP,
  );

  const verifyP50 = percentile(full, 50);
  const floorP50 = percentile(floor, 50);
  report('verify_us_p50', verifyP50, 'us');
  report('verify_us_p95', percentile(full, 95), 'us');
  report('verify_floor_us', floorP50, 'us');
  report('verify_ratio', verifyP50 / floorP50, 'x');
}
