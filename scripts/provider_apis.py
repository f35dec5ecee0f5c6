"""Local stand-ins for the provider APIs the enricher reads (Baack, Argyle, ClearID), for
scripts/run-local only: the real APIs are not reachable from a laptop demo without accounts.
Answers with made-up data and checks the credentials scripts/run-local configures.

Usage: provider_apis.py PORT
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BAACK_TOKEN = "local-baack-api-token"
ARGYLE_BASIC = "Basic " + base64.b64encode(b"local-argyle-key:local-argyle-secret").decode()
CLEARID_TOKEN = "local-clearid-access-token"


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body=None):
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/connect/token":
            return self.answer(200, {"access_token": CLEARID_TOKEN, "expires_in": 3600})
        self.answer(404)

    def do_GET(self):
        auth = self.headers.get("authorization", "")
        if self.path.startswith("/n/v1/"):
            if auth != f"Bearer {BAACK_TOKEN}":
                return self.answer(401)
            urn = self.path.rsplit("/", 1)[-1]
            return self.answer(200, {"urn": urn, "url": self.path, "domain": "example.com",
                                     "identity": {"urn": "urn:baack:identity:demo"}})
        if self.path.startswith("/v2/identities/"):
            if auth != ARGYLE_BASIC:
                return self.answer(401)
            return self.answer(200, {"id": self.path.rsplit("/", 1)[-1], "first_name": "Ann",
                                     "last_name": "Example", "ssn": "000-00-0000",
                                     "updated_at": "2026-11-20T10:00:00Z"})
        if self.path.startswith("/api/v2/accounts/"):
            if auth != f"Bearer {CLEARID_TOKEN}":
                return self.answer(401)
            return self.answer(200, {"Id": self.path.rsplit("/", 1)[-1], "FirstName": "Ann"})
        self.answer(404)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
