/**
 * The raw-serial claim, for clients flagged `myna_raw_serial_claim` that request the scope
 * `myna_certificate_serial`. The OP keeps no raw serial at rest, so the serial is only available
 * in the ID token issued for the authorization code of the login where the card was used: the
 * login seals it (bound to the client) into the interaction result and sealed-claims.ts carries it
 * to the token endpoint (parked under the code for its lifetime, taken once). Userinfo, refresh and
 * later SSO logins never see it. Only ciphertext ever reaches storage.
 */

/** The scope a flagged client requests to receive the claim. */
export const RAW_SERIAL_SCOPE = 'myna_certificate_serial';
/** The ID token claim: the certificate serial number as lower-case hex without leading zeros. */
export const RAW_SERIAL_CLAIM = 'myna_certificate_serial';
