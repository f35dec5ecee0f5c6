"""Latency and throughput through the real stack, with the emulator's own share measured apart.

Usage: latency_test.py URL SECRET TABLE QUEUE_URL N

For 1, 8 and 32 concurrent connections: N new Argyle deliveries to the function behind `cargo
lambda watch` (deliveries/s, p50, p99 of the answer time); then, at the same concurrency, N times
the three calls a new event costs (conditional PutItem, SendMessage, UpdateItem) sent straight
to the emulator with a bare HTTP client (moto does not check signatures), which is what moto
alone costs. The difference is what the function, the runtime API and the SDK add.

moto gets slower as its table fills, so each measurement starts from a reset emulator with a
fresh table and queue of the same names.
"""
import concurrent.futures
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import local_aws

url, secret, table, queue_url, n = sys.argv[1:]
n = int(n)
endpoint = urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"])
run_id = str(int(time.time()))


def deliver(i, tag):
    payload = json.dumps({"event": "identities.updated", "name": f"latency-{run_id}-{tag}-{i}",
                          "data": {"account": "a", "user": "u", "identity": f"i-{i}"}}).encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha512).hexdigest()
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "content-type": "application/json", "x-argyle-signature": signature})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status = answer.status
            answer.read()
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - started, status


local = threading.local()


def aws(service, target, body):
    """One AWS JSON-protocol call on this thread's kept-alive connection to the emulator."""
    if not hasattr(local, "connection"):
        local.connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port)
    local.connection.request("POST", "/", body=json.dumps(body), headers={
        "content-type": "application/x-amz-json-1.0", "x-amz-target": target,
        "x-amz-date": "20261123T000000Z",
        "authorization": f"AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/{service}/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=0"})
    answer = local.connection.getresponse()
    data = answer.read()
    if answer.status != 200:
        raise SystemExit(f"{target}: {answer.status} {data[:200]}")


def emulator_event(i, tag):
    """The three calls of a new event, shaped like the function's."""
    pk = f"argyle#emulator-{run_id}-{tag}-{i}"
    now = int(time.time())
    message = json.dumps({"version": 1, "event_id": pk, "payload": {"name": "x" * 200}})
    started = time.perf_counter()
    aws("dynamodb", "DynamoDB_20120810.PutItem", {
        "TableName": table,
        "Item": {"pk": {"S": pk}, "status": {"S": "RECEIVED"}, "message": {"S": message},
                 "payload_sha256": {"S": "0" * 64}, "claim_id": {"S": "c"},
                 "pending": {"S": "RECEIVED"}, "lease_expires_at": {"N": str(now + 30)},
                 "expires_at": {"N": str(now + 600)}},
        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
        "ExpressionAttributeValues": {":now": {"N": str(now)}}})
    aws("sqs", "AmazonSQS.SendMessage", {"QueueUrl": queue_url, "MessageBody": message})
    aws("dynamodb", "DynamoDB_20120810.UpdateItem", {
        "TableName": table, "Key": {"pk": {"S": pk}},
        "UpdateExpression": "SET #s = :enqueued REMOVE pending",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":enqueued": {"S": "ENQUEUED"}}})
    return time.perf_counter() - started, 200


def fresh_emulator():
    urllib.request.urlopen(urllib.request.Request(
        f"{endpoint.geturl()}/moto-api/reset", data=b"", method="POST"), timeout=60)
    with contextlib.redirect_stdout(None):
        local_aws.create(table, queue_url.rsplit("/", 1)[1])


def run(work, connections, tag):
    fresh_emulator()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=connections) as pool:
        results = list(pool.map(lambda i: work(i, tag), range(n)))
    elapsed = time.perf_counter() - started
    latencies = sorted(t for t, status in results if status == 200)
    failed = sum(1 for _, status in results if status != 200)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return n / elapsed, statistics.median(latencies) * 1000, p99 * 1000, failed


# The first request waits for watch to build the function; then every instance is started and
# warm before anything is timed.
request = urllib.request.Request(url, data=b"{}", method="POST")
try:
    urllib.request.urlopen(request, timeout=1800)
except urllib.error.HTTPError:
    pass
run(deliver, 32, "warm-up")
print(f"{n} new events per row; ms; 'emulator' = the 3 calls of a new event sent straight to moto")
print(f"{'connections':>11} | {'function /s':>11} {'p50':>6} {'p99':>6} {'non-200':>7} | "
      f"{'emulator /s':>11} {'p50':>6} {'p99':>6} | {'ours p50':>8}")
for connections in (1, 8, 32):
    rate, p50, p99, failed = run(deliver, connections, f"c{connections}")
    e_rate, e_p50, e_p99, _ = run(emulator_event, connections, f"c{connections}")
    print(f"{connections:>11} | {rate:>11.0f} {p50:>6.1f} {p99:>6.1f} {failed:>7} | "
          f"{e_rate:>11.0f} {e_p50:>6.1f} {e_p99:>6.1f} | {p50 - e_p50:>8.1f}", flush=True)
