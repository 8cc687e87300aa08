"""Identity verification at myna-oidc with Authlib 1.2: OpenID Connect for Identity Assurance 1.0."""
import json
import re
from datetime import date, datetime

from myna_oidc_client import MynaOidcClient

ELECTRONIC_SIGNATURE = "electronic_signature"
CLAIM_TYPES = {"name": str, "birthdate": str, "gender": str, "address": dict}


class MynaIdentityClient(MynaOidcClient):
    """Asks for `verified_claims` in the ID token through the `claims` parameter and checks them.

    `verified_claims` names the claims, e.g. {"name": None, "birthdate": {"essential": True}}
    (None: voluntary, the person may leave it out).
    """

    def __init__(self, issuer, client_id, client_secret, redirect_uri, verified_claims):
        super().__init__(issuer, client_id, client_secret, redirect_uri)
        offered = self.metadata
        if not (offered.get("claims_parameter_supported") and offered.get("verified_claims_supported")):
            raise ValueError("the OP offers no verified_claims")
        unknown = set(verified_claims) - set(offered.get("claims_in_verified_claims_supported", []))
        if unknown:
            raise ValueError(f"the OP cannot verify {sorted(unknown)}")
        self.verified_claims = verified_claims

    def claims_request(self):
        return {"id_token": {"verified_claims": {
            "verification": {"trust_framework": None},
            "claims": self.verified_claims,
        }}}

    def start_login(self):
        return super().start_login(claims=json.dumps(self.claims_request()))

    def finish_login(self, callback_url, pending, iss):
        token, claims, userinfo = super().finish_login(callback_url, pending, iss)
        self.check_verified_claims(claims)
        return token, claims, userinfo

    def check_verified_claims(self, claims):
        """The ID token's verified_claims as OIDC4IDA 1.0 §5 describes them, for what was asked."""
        verified = claims.get("verified_claims")
        if not isinstance(verified, dict):
            raise ValueError("no verified_claims object in the ID token")
        verification, released = verified.get("verification"), verified.get("claims")
        if not isinstance(verification, dict) or not isinstance(released, dict) or not released:
            raise ValueError("verified_claims lacks verification or claims")
        if verification.get("trust_framework") not in self.metadata.get("trust_frameworks_supported", []):
            raise ValueError("a trust framework the OP does not advertise")
        if "time" in verification:
            instant(verification["time"])
        for evidence in verification.get("evidence", []):
            if evidence.get("type") not in self.metadata.get("evidence_supported", []):
                raise ValueError(f"evidence of an unadvertised type {evidence.get('type')!r}")
            if evidence["type"] == ELECTRONIC_SIGNATURE:
                if not evidence.get("issuer"):
                    raise ValueError("electronic_signature evidence without an issuer")
                if "created_at" in evidence:
                    instant(evidence["created_at"])
        extra = set(released) - set(self.verified_claims)
        if extra:
            raise ValueError(f"claims that were not asked for: {sorted(extra)}")
        for name, request in self.verified_claims.items():
            if name not in released:
                if request and request.get("essential"):
                    raise ValueError(f"the essential claim {name} is missing")
                continue
            value = released[name]
            expected = bool if name.startswith("age_over_") else CLAIM_TYPES.get(name, object)
            if not isinstance(value, expected):
                raise ValueError(f"{name} is not a {expected.__name__}")
        if "birthdate" in released:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", released["birthdate"]):
                raise ValueError("birthdate is not YYYY-MM-DD")
            date.fromisoformat(released["birthdate"])
        return verified


def instant(text):
    """An ISO 8601 date-time with a time zone (ValueError otherwise)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text} has no time zone")
    return value
