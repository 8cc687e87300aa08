/** What the OP asserts about a login: the JPKI user-auth level and the RFC 8176 methods. */

/** `acr` of every card login: JPKI user-authentication certificate, card signature after PIN. */
export const JPKI_ACR = 'urn:myna-oidc:acr:jpki-user-auth';

/** `amr` of every card login (RFC 8176): smart card, PIN, hardware-secured key. */
export const JPKI_AMR: readonly string[] = ['sc', 'pin', 'hwk'];
