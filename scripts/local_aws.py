"""Creates the events table and queue on the local emulator, and prints what landed in them.

Usage: local_aws.py create TABLE QUEUE          -> prints the queue URL
       local_aws.py show TABLE QUEUE_URL
       local_aws.py enrich QUEUE_URL PORT          -> runs the enricher over the queue
Endpoint and dummy credentials come from the AWS_* environment variables.
"""
import json
import subprocess
import sys
import tempfile

import boto3


def create(table, queue):
    dynamodb = boto3.client("dynamodb")
    if table not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "pending", "AttributeType": "S"},
                                  {"AttributeName": "lease_expires_at", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "pending-by-lease",
                "KeySchema": [{"AttributeName": "pending", "KeyType": "HASH"},
                              {"AttributeName": "lease_expires_at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
    print(boto3.client("sqs").create_queue(QueueName=queue)["QueueUrl"])


def show(table, queue_url):
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    print(f"\n{len(items)} item(s) in table {table}:")
    for item in sorted(items, key=lambda i: i["pk"]["S"]):
        plain = {k: next(iter(v.values())) for k, v in item.items()}
        details = {k: plain[k] for k in ["status", "event_type", "expires_at", "source_updated_at"]
                   if k in plain}
        if "data" in plain:
            details["data"] = plain["data"][:60] + ("..." if len(plain["data"]) > 60 else "")
        print(f"  {plain['pk']}: " + " ".join(f"{k}={v}" for k, v in details.items()))
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    VisibilityTimeout=60, MessageAttributeNames=["All"])
        if not batch.get("Messages"):
            break
        messages += batch["Messages"]
    print(f"\n{len(messages)} message(s) in queue {queue_url}:")
    for m in messages:
        envelope = json.loads(m["Body"])
        summary = {k: v for k, v in envelope.items() if k != "payload"}
        print("  " + json.dumps(summary))
        # Shown, not consumed: visible again for the enricher.
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"],
                                      VisibilityTimeout=0)


def enrich(queue_url, port):
    """Does what Lambda's SQS event source mapping does: receive a batch, invoke the enricher
    with it, delete what succeeded."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not batch.get("Messages"):
            return
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}
                   for m in batch["Messages"]]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as event:
            json.dump({"Records": records}, event)
            event.flush()
            out = subprocess.run(["cargo-lambda", "lambda", "invoke", "-A", "127.0.0.1", "-P", port,
                                  "enricher", "--data-file", event.name, "--output-format", "json"],
                                 capture_output=True, text=True, check=True)
        failed = {f["itemIdentifier"] for f in json.loads(out.stdout)["batchItemFailures"]}
        for m in batch["Messages"]:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        print(f"  enricher: batch of {len(records)}, {len(failed)} failed")
        if failed:
            sys.exit(f"the enricher reported {len(failed)} failed message(s)")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"create": create, "show": show, "enrich": enrich}[command](*args)
