"""A table of a given name made from template.yaml's own table definition, for the scripts that
need one outside a stack (scripts/cold-start); plus a queue.
The stack itself, and `show`/`enrich`, are in scripts/stack.py.

Usage: local_aws.py create TABLE QUEUE          -> prints the queue URL
       local_aws.py show TABLE QUEUE_URL        (scripts/stack.py show)
       local_aws.py enrich QUEUE_URL PORT       (scripts/stack.py enrich)
Endpoint and dummy credentials come from the AWS_* environment variables.
"""
import sys

import boto3

import stack


def create(table, queue):
    dynamodb = boto3.client("dynamodb")
    if table not in dynamodb.list_tables()["TableNames"]:
        definition, ttl = stack.table_definition()
        dynamodb.create_table(TableName=table, **definition)
        if ttl:
            dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
    print(boto3.client("sqs").create_queue(QueueName=queue)["QueueUrl"])


show = stack.show
enrich = stack.enrich

if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"create": create, "show": show, "enrich": enrich}[command](*args)
