/** The development PKI every bench logs in with: its first card holder, trust anchors and CRLs. */
import { createDevPki, type DevPki } from '../dev-pki/hierarchy.js';
import { loadTrustAnchors, type TrustAnchors } from '../functions/jpki/trust-anchors.js';
import { MemoryCrlSource } from '../functions/revocation/memory-crl-source.js';

/** A fresh development PKI and what a verifier of its user-auth certificates needs. */
export interface BenchPki {
  readonly pki: DevPki;
  /** The first card holder. */
  readonly alice: DevPki['identities'][number];
  /** Both user-auth CA generations. */
  readonly trustAnchors: TrustAnchors;
  /** The user-auth CRLs, in memory. */
  readonly revocation: MemoryCrlSource;
}

/** Creates the PKI (RSA key generation: a few seconds) and loads its user-auth CRLs. */
export async function createBenchPki(): Promise<BenchPki> {
  const pki = await createDevPki();
  const alice = pki.identities[0];
  if (!alice) throw new Error('development PKI has no identity');
  const trustAnchors = loadTrustAnchors(pki.userAuthCas.map((ca) => ca.der));
  const revocation = new MemoryCrlSource(trustAnchors);
  for (const crl of pki.crls.filter((c) => c.name.startsWith('user-auth'))) await revocation.load(crl.der);
  return { pki, alice, trustAnchors, revocation };
}
