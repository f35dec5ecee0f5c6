"""Signs each provider's sample payload (events/payloads/) the way that provider does and POSTs
it to the local function URLs, then sends one duplicate. An independent implementation of the
signing schemes, in Python's standard library, so the demo also cross-checks the Rust verifiers.

Usage: send_samples.py BASE_URL_PATTERN   e.g. http://127.0.0.1:{port}/lambda-url/{function}/
Secrets are the demo values written by scripts/run-local (DEMO_* environment variables).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def payload(provider):
    with open(os.path.join(ROOT, "events", "payloads", f"{provider}.json"), "rb") as f:
        return f.read().strip()


def sign(provider, body):
    secret = os.environ[f"DEMO_{provider.upper()}_SECRET"]
    if provider == "baack":
        return {"Authorization": f"Bearer {secret}"}
    if provider == "clearid":
        return {"X-Webhook-Token": secret}
    if provider == "argyle":
        return {"X-Argyle-Signature": hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()}
    if provider == "midbound":
        key = base64.b64decode(secret.removeprefix("whsec_"))
        msg_id = json.loads(body)["id"]
        ts = str(int(time.time()))
        mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        return {"webhook-id": msg_id, "webhook-timestamp": ts,
                "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    raise ValueError(provider)


def post(url, headers, body):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(pattern):
    failures = 0
    sends = [(p, "") for p in ["baack", "clearid", "argyle", "midbound"]] + [("argyle", " (duplicate)")]
    for provider, note in sends:
        body = payload(provider)
        url = pattern.format(function=provider, port=os.environ[f"DEMO_{provider.upper()}_PORT"])
        if provider == "clearid":
            url += "?event=identity.deleted"
        status, answer = post(url, sign(provider, body), body)
        print(f"  {provider}{note}: {status} {answer}")
        expected = "duplicate" if note else "accepted"
        failures += status != 200 or json.loads(answer).get("status") != expected
    return failures


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1]) else 0)
