"""moto server, with DynamoDB's writes made atomic as DynamoDB's are.

moto checks a write's condition and then writes, with nothing held between
the two, and its server answers each request on a thread of its own. Two
conditional puts on one key can then both succeed, where DynamoDB lets one
win: the idempotency table's storm tests saw a failure begun twice, under
load. One lock around each DynamoDB write closes that window. Reads are not
held: each is one lookup of a dict, which Python does at once.

Arguments are moto_server's own.
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

# Reentrant, so a transaction may write through the single-item calls. A
# BatchWriteItem request is answered through put_item and delete_item.
_WRITES = threading.RLock()


def _held(write):
    @functools.wraps(write)
    def held(*args, **kwargs):
        with _WRITES:
            return write(*args, **kwargs)

    return held


for _name in (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
):
    if not hasattr(DynamoDBBackend, _name):
        sys.exit(f"moto's DynamoDB backend has no {_name}: pin the version this launcher was written for")
    setattr(DynamoDBBackend, _name, _held(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    sys.exit(main())
