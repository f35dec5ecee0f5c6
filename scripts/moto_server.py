"""moto's server, with one guarantee of DynamoDB's that moto lacks: a conditional write is atomic.

moto checks a ConditionExpression and then writes the item as two steps of Python, on one of
the server's threads: under load two racing PutItems for one key can both pass the check (seen
here: 1 of 400 keys claimed twice by 8 racing writers while the machine was busy). Real
DynamoDB serializes the writes to an item, and hookline's dedup claim relies on it, so here
DynamoDB's requests are handled one at a time. DynamoDB has no long-polling call, so the lock is
held for milliseconds; SQS and every other service stay concurrent.

Usage: moto_server.py [moto_server's own options]
"""
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_one_at_a_time = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialized_call_action(self):
    with _one_at_a_time:
        return _call_action(self)


DynamoHandler.call_action = _serialized_call_action

if __name__ == "__main__":
    main()
