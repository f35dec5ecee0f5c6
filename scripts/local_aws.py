"""Creates the events table and queue on the local emulator, and prints what landed in them.

Usage: local_aws.py create TABLE QUEUE   -> prints the queue URL
       local_aws.py show TABLE QUEUE_URL
Endpoint and dummy credentials come from the AWS_* environment variables.
"""
import json
import sys

import boto3


def create(table, queue):
    dynamodb = boto3.client("dynamodb")
    if table not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
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
        print(f"  {plain['pk']}: status={plain['status']} event_type={plain['event_type']}"
              f" expires_at={plain['expires_at']}")
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


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"create": create, "show": show}[command](*args)
