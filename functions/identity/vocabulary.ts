/**
 * The names of identity verification (issue #14) that RPs see: scopes, claims, the OpenID Connect
 * for Identity Assurance 1.0 (IDA) values, and the OP's own claims. One module, so discovery,
 * the request parser, the release and the docs cannot disagree.
 *
 * - Scopes `name`, `address`, `birthdate`, `gender` (as the Digital Agency's authentication app
 *   offers them): OIDC Core §5.1 claims of the same names, from the signing certificate's basic
 *   facts (基本4情報). `address` is the OIDC address object with `formatted` (the certificate's
 *   address as written), `region` (都道府県) and `locality` (市区町村, with a designated city's
 *   区 and a 郡's 町村) where the address can be split (derived-claims.ts).
 * - Derived claims: `age_over_NN` (ISO/IEC 18013-5 mDL) for the configured thresholds and
 *   `age_equal_or_over` (`{"NN": boolean}`, EUDI PID), computed in Japan time.
 * - `verified_claims` (IDA) with trust framework `jp_aml` (the IDA predefined value for the Act on
 *   Prevention of Transfer of Criminal Proceeds, 犯罪収益移転防止法, under which a JPKI signature is
 *   an identification method) and evidence of type `electronic_signature`.
 */

/** The scopes that ask for the basic facts, each giving the claim of the same name. */
export const IDENTITY_SCOPES = ['name', 'address', 'birthdate', 'gender'] as const;
export type IdentityScope = (typeof IDENTITY_SCOPES)[number];

/** Where a claim can be asked for and released (OIDC Core §5.5). */
export const IDENTITY_TARGETS = ['id_token', 'userinfo'] as const;
export type IdentityTarget = (typeof IDENTITY_TARGETS)[number];

/** The members of the `address` claim the OP can release (it has no street or postal code apart). */
export const ADDRESS_MEMBERS = ['formatted', 'region', 'locality'] as const;
export type AddressMember = (typeof ADDRESS_MEMBERS)[number];

/** The IDA claim that carries verified claims with their verification. */
export const VERIFIED_CLAIMS = 'verified_claims';
/** The EUDI PID claim: an object of thresholds ("18") to booleans. */
export const AGE_EQUAL_OR_OVER = 'age_equal_or_over';
/** The prefix of the ISO mDL claims `age_over_NN`. */
export const AGE_OVER_PREFIX = 'age_over_';

/**
 * Where substitute characters stand in a released name or address (代替文字 for a 外字 the
 * certificate cannot carry): `{ name?: number[], address?: { formatted?, region?, locality? } }`,
 * each a list of 0-based Unicode code point indexes into the released string. Present only when
 * a released string has one; it sits next to the claims it describes (top level or inside
 * `verified_claims.claims`).
 */
export const SUBSTITUTES_CLAIM = 'myna_substitute_characters';
/** The evidence bundle (compact JWS by the OP), for clients flagged `myna_identity_evidence`. */
export const EVIDENCE_CLAIM = 'myna_identity_evidence';
/** The id of the OP's retained evidence record, for clients flagged `myna_retain_identity_evidence`. */
export const EVIDENCE_RECORD_CLAIM = 'myna_identity_evidence_record';

/** IDA trust framework of a JPKI signing-certificate verification. */
export const TRUST_FRAMEWORK = 'jp_aml';
/** IDA evidence type of a JPKI signature. */
export const EVIDENCE_TYPE = 'electronic_signature';
/** IDA `signature_type` of the evidence: a signature with the JPKI signing certificate (署名用電子証明書). */
export const SIGNATURE_TYPE = 'jpki_signing_certificate';
/** IDA evidence `issuer`: the certification authority of every JPKI signing certificate. */
export const SIGNING_CERTIFICATE_ISSUER = 'J-LIS';
