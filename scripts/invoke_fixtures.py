"""The local invoke test: sends every fixture listed in DIR/manifest.tsv to its function with
`cargo lambda invoke` (functions served by `cargo lambda watch`, ports in PORT_<FUNCTION>), and
checks the answer, the stored item and the queue message of each. Each fixture starts from an
empty table and queue, so variants of one payload are independent.

Usage: invoke_fixtures.py DIR TABLE QUEUE_URL
Prints one line per fixture and a closing "N passed, N failed"; exits 1 on any failure.
"""
import csv
import json
import os
import subprocess
import sys

import boto3

dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")


def invoke(function, path):
    port = os.environ[f"PORT_{function.upper()}"]
    command = ["cargo-lambda", "lambda", "invoke", "-A", "127.0.0.1", "-P", port, function,
               "--data-file", path, "--output-format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise AssertionError(f"cargo lambda invoke failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def drain(queue_url):
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    VisibilityTimeout=60, MessageAttributeNames=["All"])
        if not batch.get("Messages"):
            return messages
        for m in batch["Messages"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        messages += batch["Messages"]


def items(table):
    return dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]


def check(row, directory, table, queue_url):
    response = invoke(row["function"], os.path.join(directory, row["fixture"]))
    body = json.loads(response["body"])
    answer = (response["statusCode"], body.get("status"))
    expected = (int(row["status"]), row["outcome"])
    assert answer == expected, f"answered {answer}, expected {expected}: {body}"
    stored, queued = items(table), drain(queue_url)
    try:
        if row["outcome"] != "accepted":
            assert not stored and not queued, f"{len(stored)} item(s), {len(queued)} message(s)"
            return
        event_id = body["event_id"]
        assert [i["pk"]["S"] for i in stored] == [event_id], f"items: {stored}"
        assert stored[0]["status"]["S"] == "ENQUEUED", stored[0]
        assert len(queued) == 1, f"{len(queued)} messages"
        envelope = json.loads(queued[0]["Body"])
        assert envelope["event_id"] == event_id, envelope["event_id"]
        assert envelope["provider"] == row["function"], envelope["provider"]
        assert queued[0]["MessageAttributes"]["event_type"]["StringValue"] == envelope["event_type"]
    finally:
        for item in stored:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})


def main(directory, table, queue_url):
    passed = failed = 0
    with open(os.path.join(directory, "manifest.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            try:
                check(row, directory, table, queue_url)
                passed += 1
                print(f"invoke {row['fixture']} ... ok", flush=True)
            except Exception as error:  # report every fixture, then fail
                failed += 1
                print(f"invoke {row['fixture']} ... FAILED: {error}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
