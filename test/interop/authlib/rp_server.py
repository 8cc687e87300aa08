"""A tiny web RP around MynaOidcClient (test/interop/authlib.test.ts starts it): http.server, one
in-memory session per browser cookie, every answer JSON. Configured by the environment:
MYNA_OIDC_ISSUER, MYNA_OIDC_CLIENT_ID, MYNA_OIDC_CLIENT_SECRET, RP_HOST, RP_PORT, and
RP_VERIFIED_CLAIMS (JSON, optional): the verified_claims to ask for (myna_identity_client.py).

GET  /login            -> the OP's authorization endpoint
GET  /callback         -> tokens, checks, session; then /
GET  /                 -> {"claims", "userinfo"} of the session, 401 without one
POST /refresh          -> refreshes the session's tokens: {"access_token", "claims"}
GET  /logout           -> the OP's end_session endpoint (RP-initiated logout)
GET  /loggedout        -> {"loggedOut": true}
POST /backchannel      -> validates a logout token, ends the sessions of its sid; 400 if invalid
GET  /backchannel-log  -> the logout tokens accepted and refused so far
"""
import http.cookies
import json
import os
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from myna_identity_client import MynaIdentityClient
from myna_oidc_client import MynaOidcClient

HOST, PORT = os.environ["RP_HOST"], int(os.environ["RP_PORT"])
BASE = f"http://{HOST}:{PORT}"
COOKIE = "authlib_rp_session"
CLIENT_CONFIG = (os.environ["MYNA_OIDC_ISSUER"], os.environ["MYNA_OIDC_CLIENT_ID"],
                 os.environ["MYNA_OIDC_CLIENT_SECRET"], f"{BASE}/callback")
if os.environ.get("RP_VERIFIED_CLAIMS"):
    client = MynaIdentityClient(*CLIENT_CONFIG, json.loads(os.environ["RP_VERIFIED_CLAIMS"]))
else:
    client = MynaOidcClient(*CLIENT_CONFIG)
sessions = {}  # cookie value -> {"pending"} or {"token", "claims", "userinfo"}
backchannel_log = []  # {"accepted": bool, "sid"?, "sub"?, "ended"?, "error"?}
seen_jtis = set()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # quiet: the test reads answers, not access logs
        pass

    def answer(self, status, body=None, location=None, cookie=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        if cookie:
            self.send_header("Set-Cookie", f"{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax")
        payload = json.dumps(body if body is not None else {}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def session_id(self):
        jar = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
        return jar[COOKIE].value if COOKIE in jar else None

    def do_GET(self):
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        sid = self.session_id()
        session = sessions.get(sid)
        if url.path == "/login":
            location, pending = client.start_login()
            sid = secrets.token_urlsafe(32)
            sessions[sid] = {"pending": pending}
            return self.answer(302, location=location, cookie=sid)
        if url.path == "/callback":
            if not session or "pending" not in session:
                return self.answer(400, {"error": "no login in progress"})
            if "error" in query:
                sessions.pop(sid, None)
                return self.answer(403, {"error": query["error"]})
            try:
                token, claims, userinfo = client.finish_login(
                    BASE + self.path, session["pending"], query.get("iss"))
            except Exception as error:  # a failed check: say which, sign no one in
                return self.answer(400, {"error": type(error).__name__, "detail": str(error)})
            sessions[sid] = {"token": dict(token), "claims": dict(claims), "userinfo": userinfo}
            return self.answer(303, location=f"{BASE}/")
        if url.path == "/":
            if not session or "claims" not in session:
                return self.answer(401, {"error": "not signed in"})
            return self.answer(200, {"claims": session["claims"], "userinfo": session["userinfo"]})
        if url.path == "/logout":
            if not session or "token" not in session:
                return self.answer(401, {"error": "not signed in"})
            sessions.pop(sid, None)
            return self.answer(302, location=client.logout_url(
                session["token"]["id_token"], f"{BASE}/loggedout"))
        if url.path == "/loggedout":
            return self.answer(200, {"loggedOut": True})
        if url.path == "/backchannel-log":
            return self.answer(200, backchannel_log)
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        if url.path == "/backchannel":
            try:
                claims = client.logout_token_claims(form.get("logout_token", ""))
                if claims["jti"] in seen_jtis:
                    raise ValueError("replayed logout token")
                seen_jtis.add(claims["jti"])
            except Exception as error:
                backchannel_log.append({"accepted": False, "error": str(error)})
                return self.answer(400, {"error": "invalid_request"})
            ended = [key for key, value in sessions.items() if "claims" in value and (
                value["claims"].get("sid") == claims.get("sid") if "sid" in claims
                else value["claims"]["sub"] == claims["sub"])]
            for key in ended:
                sessions.pop(key, None)
            backchannel_log.append({"accepted": True, "sid": claims.get("sid"),
                                    "sub": claims.get("sub"), "ended": len(ended)})
            return self.answer(200)
        if url.path == "/refresh":
            session = sessions.get(self.session_id())
            if not session or "token" not in session:
                return self.answer(401, {"error": "not signed in"})
            token = client.refresh(session["token"]["refresh_token"])
            claims = client.id_token_claims(token) if "id_token" in token else session["claims"]
            if claims["sub"] != session["claims"]["sub"]:
                return self.answer(400, {"error": "refresh answered for someone else"})
            session["token"] = {**session["token"], **dict(token)}
            return self.answer(200, {"access_token": token["access_token"], "claims": dict(claims)})
        return self.answer(404, {"error": "not found"})


server = ThreadingHTTPServer((HOST, PORT), Handler)
print(f"LISTENING {BASE}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
