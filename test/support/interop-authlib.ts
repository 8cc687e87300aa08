/**
 * The Authlib RP for the interop test: Debian's python3 with python3-authlib running
 * test/interop/authlib/rp_server.py around myna_oidc_client.py (the file the README quotes).
 * Fails loudly when python3 or Authlib is missing: the README's test command installs them.
 */
import { fileURLToPath } from 'node:url';
import {
  type RpOptions,
  type RpProcess,
  rpBaseUrl,
  rpEnvironment,
  startRpProcess,
} from './interop-process.js';

/** Debian's python3 (not a pyenv or venv one), where apt installs python3-authlib. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
/** The folder holding rp_server.py and myna_oidc_client.py. */
export const AUTHLIB_RP_DIR = fileURLToPath(new URL('../interop/authlib', import.meta.url));

/** The client metadata to register for the Authlib RP at `baseUrl`. */
export function authlibClientMetadata(
  clientId: string,
  clientSecret: string,
  baseUrl: string,
  firstParty: boolean,
) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    client_name: `Authlib RP ${clientId}`,
    redirect_uris: [`${baseUrl}/callback`],
    post_logout_redirect_uris: [`${baseUrl}/loggedout`],
    backchannel_logout_uri: `${baseUrl}/backchannel`,
    ...(firstParty ? { myna_first_party: true } : {}),
  };
}

/**
 * Starts the Authlib RP and waits until it serves; with `verifiedClaims` it is an identity RP
 * (myna_identity_client.py) asking for those claims in `verified_claims`.
 */
export async function startAuthlibRp(
  options: RpOptions & { readonly verifiedClaims?: Readonly<Record<string, unknown>> },
): Promise<RpProcess & { baseUrl: string }> {
  const baseUrl = rpBaseUrl(options.host, options.port);
  const rp = await startRpProcess({
    software: 'Authlib',
    command: DEBIAN_PYTHON,
    args: ['rp_server.py'],
    cwd: AUTHLIB_RP_DIR,
    env: {
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONPATH: AUTHLIB_RP_DIR,
      ...rpEnvironment(options),
      ...(options.verifiedClaims ? { RP_VERIFIED_CLAIMS: JSON.stringify(options.verifiedClaims) } : {}),
    },
    readyUrl: `${baseUrl}/loggedout`,
  });
  return { ...rp, baseUrl };
}
