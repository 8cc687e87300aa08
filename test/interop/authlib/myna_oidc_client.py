"""A relying party of myna-oidc with Authlib 1.2, configured from discovery only."""
import secrets

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
JPKI_ACR = "urn:myna-oidc:acr:jpki-user-auth"


class MynaOidcClient:
    def __init__(self, issuer, client_id, client_secret, redirect_uri):
        url = f"{issuer}/.well-known/openid-configuration"
        self.metadata = requests.get(url, timeout=5).json()
        if self.metadata["issuer"] != issuer:
            raise ValueError("discovery names another issuer")
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri = redirect_uri
        self.jwt = JsonWebToken(["RS256", "PS256", "ES256"])  # never "none" or HS*
        self.keys = None

    def session(self, token=None):
        # The OP requires PKCE S256 from every client.
        return OAuth2Session(self.client_id, self.client_secret, scope="openid",
                             redirect_uri=self.redirect_uri, code_challenge_method="S256",
                             token=token)

    def key_set(self, refresh=False):
        if refresh or self.keys is None:
            jwks = requests.get(self.metadata["jwks_uri"], timeout=5).json()
            self.keys = JsonWebKey.import_key_set(jwks)
        return self.keys

    def decode(self, token, **kwargs):
        try:
            return self.jwt.decode(token, self.key_set(), **kwargs)
        except ValueError:  # an unknown kid: the keys were rotated, fetch them again
            return self.jwt.decode(token, self.key_set(refresh=True), **kwargs)

    def start_login(self, **params):
        """The authorization URL (with `params` added) and what the callback needs (keep it in
        the user's session)."""
        pending = {"nonce": secrets.token_urlsafe(32), "code_verifier": secrets.token_urlsafe(48)}
        url, pending["state"] = self.session().create_authorization_url(
            self.metadata["authorization_endpoint"], nonce=pending["nonce"],
            code_verifier=pending["code_verifier"], **params)
        return url, pending

    def finish_login(self, callback_url, pending, iss):
        """Tokens, validated ID token claims and userinfo of a login's callback."""
        if iss != self.metadata["issuer"]:  # RFC 9207: the answer comes from this OP
            raise ValueError("callback from another issuer")
        session = self.session()
        token = session.fetch_token(self.metadata["token_endpoint"], state=pending["state"],
                                    authorization_response=callback_url,
                                    code_verifier=pending["code_verifier"])
        claims = self.id_token_claims(token, nonce=pending["nonce"])
        if claims.get("acr") != JPKI_ACR:
            raise ValueError("not a card login")
        userinfo = session.get(self.metadata["userinfo_endpoint"], timeout=5).json()
        if userinfo["sub"] != claims["sub"]:
            raise ValueError("userinfo is about someone else")
        return token, claims, userinfo

    def id_token_claims(self, token, nonce=None):
        claims = self.decode(token["id_token"], claims_cls=CodeIDToken,
                             claims_options={"iss": {"value": self.metadata["issuer"]}},
                             claims_params={"nonce": nonce, "client_id": self.client_id,
                                            "access_token": token["access_token"]})
        claims.validate(leeway=60)
        return claims

    def refresh(self, refresh_token):
        return self.session().refresh_token(self.metadata["token_endpoint"],
                                            refresh_token=refresh_token)

    def logout_url(self, id_token, post_logout_redirect_uri):
        return requests.Request("GET", self.metadata["end_session_endpoint"], params={
            "id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri,
        }).prepare().url

    def logout_token_claims(self, logout_token):
        """Validates a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.6)."""
        claims = self.decode(logout_token, claims_options={
            "iss": {"essential": True, "value": self.metadata["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
            "iat": {"essential": True}, "jti": {"essential": True},
            "events": {"essential": True}})
        claims.validate(leeway=60)
        if claims.header.get("typ") != "logout+jwt":
            raise ValueError("not a logout token")
        if BACKCHANNEL_LOGOUT_EVENT not in claims["events"] or "nonce" in claims:
            raise ValueError("not a back-channel logout event")
        if "sid" not in claims and "sub" not in claims:
            raise ValueError("logout token names no session")
        return claims
