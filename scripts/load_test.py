"""Load test: N Argyle deliveries over C concurrent connections to the function served by
`cargo lambda watch`, 10% of them repeats of an earlier delivery and some sent concurrently with
their original. A 503 (in progress, or unavailable) is retried after a short pause, as a provider
would. Then checks the queue: exactly one message per distinct event, none lost.

Usage: load_test.py URL SECRET QUEUE_URL TABLE [N] [C]
Prints the counts and "N passed, N failed" (one check per distinct event); exits 1 on any loss.
"""
import concurrent.futures
import hashlib
import hmac
import json
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import boto3


def body(i):
    return json.dumps({"event": "identities.updated", "name": f"load-{i}",
                       "data": {"account": "a", "user": "u", "identity": f"identity-{i}"}}).encode()


def deliver(url, secret, payload):
    """POSTs until a final answer; returns the list of statuses seen."""
    signature = hmac.new(secret.encode(), payload, hashlib.sha512).hexdigest()
    seen = []
    for _ in range(20):
        request = urllib.request.Request(url, data=payload, method="POST", headers={
            "content-type": "application/json", "x-argyle-signature": signature})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                seen.append((response.status, json.loads(response.read())["status"]))
        except urllib.error.HTTPError as error:
            seen.append((error.code, json.loads(error.read() or b"{}").get("status")))
        if seen[-1][0] != 503:
            return seen
        time.sleep(0.2 + random.random() * 0.3)
    return seen


def main(url, secret, queue_url, table, n=1000, c=50):
    n, c = int(n), int(c)
    distinct = n - n // 10
    plan = [body(i) for i in range(distinct)]
    repeats = [body(random.randrange(distinct)) for _ in range(n - distinct)]
    # Half the repeats go out right beside their original, the rest shuffled in.
    for i, payload in enumerate(repeats):
        at = plan.index(payload) + 1 if i % 2 == 0 else random.randrange(len(plan) + 1)
        plan.insert(at, payload)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=c) as pool:
        results = list(pool.map(lambda p: deliver(url, secret, p), plan))
    elapsed = time.monotonic() - started

    finals = Counter(r[-1] for r in results)
    retried = sum(1 for r in results if len(r) > 1)
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        if not batch.get("Messages"):
            break
        bodies += [json.loads(m["Body"])["payload"]["name"] for m in batch["Messages"]]
    per_event = Counter(bodies)
    lost = [i for i in range(distinct) if per_event[f"load-{i}"] == 0]
    doubled = [name for name, count in per_event.items() if count > 1]
    unfinished = [r for r in results if r[-1][0] != 200]

    print(f"requests: {len(plan)} ({distinct} distinct events, {len(plan) - distinct} repeats)"
          f" over {c} connections in {elapsed:.1f} s ({len(plan) / elapsed:.0f} deliveries/s)")
    print(f"final answers: {dict(finals)}; deliveries that needed a retry after a 503: {retried}")
    print(f"queue: {len(bodies)} messages for {len(per_event)} events; lost: {len(lost)};"
          f" sent twice: {len(doubled)}; deliveries never answered 200: {len(unfinished)}")
    failed = len(lost) + len(doubled) + len(unfinished)
    print(f"{distinct - len(lost) - len(doubled)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
