"""Parse a Kinesis event with Powertools for AWS Lambda (Python), strictly.

Usage: parse_kinesis_event.py EVENT_FILE
Prints {"records": N, "data_sha256": [...], "sequence_numbers": [...]} on success;
exits non-zero with the validation error otherwise.
"""
import hashlib
import json
import sys

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel


def main(path: str) -> None:
    with open(path, "rb") as f:
        event = json.load(f)
    model = parse(event=event, model=KinesisDataStreamModel)
    records = model.Records
    print(json.dumps({
        "records": len(records),
        "data_sha256": [hashlib.sha256(r.kinesis.data).hexdigest() for r in records],
        "sequence_numbers": [r.kinesis.sequenceNumber for r in records],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
