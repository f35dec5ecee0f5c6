"""Cold start of the release binaries under cargo-lambda's Lambda runtime API.

Usage: cold_start.py BIN_DIR EVENTS_DIR TABLE QUEUE_URL RUNTIME_PORT RUNS

For each function, RUNS times: start the binary (under /usr/bin/time -v) against the runtime API
of `cargo lambda watch --only-lambda-apis` on RUNTIME_PORT, time process start -> its "ready" line
-> the answer to a first delivery (a new event: the table is emptied before each run),
then 100 more invocations, then stop it and read its peak RSS. Prints one line per function with
medians. AWS settings and SECRET_<FUNCTION> come from the environment (see scripts/cold-start).
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import boto3

bin_dir, events_dir, table, queue_url, port, runs = sys.argv[1:]
runs = int(runs)
invoke_url = f"http://127.0.0.1:{port}/2015-03-31/functions/_/invocations"
dynamodb = boto3.client("dynamodb")

# function -> (fixture or a constant event, environment of its own). Each receiver (one per
# provider, from `hookline providers --names` through scripts/cold-start's HOOKLINE_RECEIVERS)
# gets the first fixture events/manifest.tsv says it accepts, and its test secret, which
# scripts/cold-start reads from events/test-secrets.env with the other scripts' reader.
with open(os.path.join(os.path.dirname(__file__), "..", "events", "manifest.tsv")) as manifest:
    ACCEPTED = [row.rstrip("\n").split("\t") for row in manifest][1:]


def first_accepted(function):
    return next(row[0] for row in ACCEPTED if row[1] == function and row[2:] == ["200", "accepted"])


FUNCTIONS = {
    name: (first_accepted(name), {"WEBHOOK_SECRETS": os.environ[f"SECRET_{name.upper()}"]})
    for name in os.environ["HOOKLINE_RECEIVERS"].split()
}
FUNCTIONS.update({
    # No delivery to make: an empty batch, an empty sweep. The enricher refuses to start without
    # its history table, identities table and bus; an empty batch touches none, so names suffice.
    "enricher": (None, {"HISTORY_TABLE": "hookline-cold-start-history",
                        "IDENTITIES_TABLE": "hookline-cold-start-identities",
                        "EVENT_BUS_NAME": "hookline-cold-start-identities"}),
    "sweeper": (None, {}),
})


def invoke(body):
    request = urllib.request.Request(invoke_url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def forget_every_event():
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="pk"):
        for item in page["Items"]:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})


def one_run(name, fixture, extra_env):
    forget_every_event()
    env = dict(os.environ, EVENTS_TABLE=table, EVENTS_QUEUE_URL=queue_url,
               AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt", AWS_LAMBDA_FUNCTION_NAME="_",
               AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", **extra_env)
    if fixture is None:
        body = json.dumps({"Records": []} if name == "enricher" else {}).encode()
    else:
        body = open(os.path.join(events_dir, fixture), "rb").read()
    started = time.perf_counter()
    process = subprocess.Popen(["/usr/bin/time", "-v", os.path.join(bin_dir, name)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready = None
    init = {}
    if fixture is not None:
        # The webhook functions say when they are ready, and how long start-up took inside.
        for line in process.stdout:
            record = json.loads(line)
            if record.get("message") == "ready":
                ready = time.perf_counter() - started
                init = record
                break
            if record.get("level") == "ERROR":
                raise SystemExit(f"{name}: {record}")
    # Keep reading its log lines, or the pipe fills and the function blocks on a write.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    answer = invoke(body)
    first = time.perf_counter() - started
    if fixture is not None:
        status = json.loads(answer["body"])["status"]
        assert answer["statusCode"] == 200 and status == "accepted", answer
    warm = []
    for _ in range(100):
        t = time.perf_counter()
        invoke(body)
        warm.append(time.perf_counter() - t)
    # Stop the function itself, not /usr/bin/time, which then reports on it.
    children = open(f"/proc/{process.pid}/task/{process.pid}/children").read().split()
    for child in children:
        os.kill(int(child), signal.SIGTERM)
    process.wait(timeout=30)
    stderr = process.stderr.read()
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return {
        "ready_ms": ready * 1000 if ready is not None else None,
        "init_ms": init.get("init_us", 0) / 1000 if init else None,
        "before_sdk_ms": init.get("init_before_sdk_us", 0) / 1000 if init else None,
        "first_ms": first * 1000,
        "warm_p50_ms": statistics.median(warm) * 1000,
        "rss_mb": rss / 1024,
    }


def median(results, key):
    values = [r[key] for r in results if r[key] is not None]
    return f"{statistics.median(values):.1f}" if values else "-"


print(f"{'function':<10} {'to ready':>9} {'init':>7} {'pre-SDK':>8} {'1st answer':>11} "
      f"{'warm p50':>9} {'peak RSS':>9}   (ms, MB; medians of {runs} cold starts)")
for name, (fixture, extra_env) in FUNCTIONS.items():
    results = [one_run(name, fixture, extra_env) for _ in range(runs)]
    print(f"{name:<10} {median(results, 'ready_ms'):>9} {median(results, 'init_ms'):>7} "
          f"{median(results, 'before_sdk_ms'):>8} {median(results, 'first_ms'):>11} "
          f"{median(results, 'warm_p50_ms'):>9} {median(results, 'rss_mb'):>9}", flush=True)
