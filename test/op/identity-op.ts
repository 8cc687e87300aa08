/**
 * A test OP that verifies identities (issue #14): the test PKI's user-auth CAs and its signing CA
 * as trust anchors, the empty CRLs of all of them loaded (revocation "good"; `signingCrl:
 * 'revoked'` loads the signing CA's CRL that lists `revoked` and `moved` instead, `'none'` no CRL
 * of the signing CA: its certificates' status unknown), and the development link
 * file (each identity's signing serial → its card's user-auth serial, authoritative) in a
 * temporary folder that `close` removes. (The card side: local/scripted-login.ts VirtualCardSigner.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevIdentity, devCertificateLinks } from '../../dev-pki/hierarchy.js';
import {
  certificateLinkFileText,
  FileCertificateLinkSource,
} from '../../functions/jpki/certificate-links.js';
import { combineTrustAnchors, loadTrustAnchors } from '../../functions/jpki/trust-anchors.js';
import { type OpServer, startOpServer } from '../../functions/op/local-server.js';
import { MemoryCrlSource } from '../../functions/revocation/memory-crl-source.js';
import { devPki, userAuthAnchors } from '../support/dev-pki.js';
import { type TestOpOptions, testOpConfig } from '../support/op-stack.js';

/**
 * Starts the OP (TestOpOptions as startTestOp's) on 127.0.0.1, port 0; `moreCards`: identities
 * made besides the test PKI's (createDevIdentity), linked too.
 */
export async function startIdentityOp(
  options: TestOpOptions & {
    readonly signingCrl?: 'empty' | 'revoked' | 'none';
    readonly moreCards?: readonly DevIdentity[];
    /** Accept an unknown revocation status at the login (OpConfig) / the identity step (identity). */
    readonly allowUnknownRevocation?: { readonly login?: boolean; readonly identity?: boolean };
  },
): Promise<OpServer> {
  const pki = await devPki();
  const userAuth = userAuthAnchors(pki);
  const signingTrustAnchors = loadTrustAnchors([pki.signingCa.der]);
  const revocation = new MemoryCrlSource(combineTrustAnchors(userAuth, signingTrustAnchors));
  const signingCrl = `.${options.signingCrl ?? 'empty'}.crl`;
  for (const crl of pki.crls) {
    const signing = crl.name.startsWith('signing');
    if (crl.name.endsWith(signing ? signingCrl : '.empty.crl')) await revocation.load(crl.der);
  }
  const linkDir = await mkdtemp(join(tmpdir(), 'myna-identity-links-'));
  try {
    const linkFile = join(linkDir, 'certificate-links.json');
    await writeFile(
      linkFile,
      certificateLinkFileText(devCertificateLinks([...pki.identities, ...(options.moreCards ?? [])])),
    );
    const server = await startOpServer({
      config: async (url) => ({
        ...(await testOpConfig(url, options)),
        trustAnchors: userAuth,
        revocation,
        signingTrustAnchors,
        allowUnknownRevocation: options.allowUnknownRevocation?.login ?? false,
        identity: {
          links: new FileCertificateLinkSource(linkFile, { authoritative: true }),
          allowUnknownRevocation: options.allowUnknownRevocation?.identity ?? false,
        },
      }),
    });
    return {
      ...server,
      close: async () => {
        await server.close();
        await rm(linkDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(linkDir, { recursive: true, force: true });
    throw error;
  }
}
