"""Parse a DynamoDB stream event with Powertools for AWS Lambda (Python), strictly.

Usage: parse_dynamodb_event.py EVENT_FILE
Powertools validates each record and unmarshals its attribute values into
Python types; this prints what it made of them, marshalled back to DynamoDB
JSON with set members sorted, so the caller can compare with what it wrote:
{"records": N, "sequence_numbers": [...], "event_names": [...],
 "images": [{"Keys": {...}, "NewImage": {...} | null, "OldImage": {...} | null}]}
Exits non-zero with the validation error otherwise.
"""
import base64
import json
import sys
from decimal import Decimal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel


def marshal(value):
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Decimal):
        return {"N": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": base64.b64encode(value).decode()}
    if isinstance(value, (set, frozenset)):
        members = list(value)
        if all(isinstance(m, str) for m in members):
            return {"SS": sorted(members)}
        if all(isinstance(m, Decimal) for m in members):
            return {"NS": sorted(str(m) for m in members)}
        return {"BS": sorted(base64.b64encode(m).decode() for m in members)}
    if isinstance(value, list):
        return {"L": [marshal(v) for v in value]}
    if isinstance(value, dict):
        return {"M": image(value)}
    raise TypeError(f"unexpected attribute type {type(value).__name__}")


def image(item):
    return None if item is None else {k: marshal(v) for k, v in item.items()}


def main(path: str) -> None:
    with open(path, "rb") as f:
        event = json.load(f)
    records = parse(event=event, model=DynamoDBStreamModel).Records
    print(json.dumps({
        "records": len(records),
        "sequence_numbers": [r.dynamodb.SequenceNumber for r in records],
        "event_names": [r.eventName for r in records],
        "images": [
            {
                "Keys": image(r.dynamodb.Keys),
                "NewImage": image(r.dynamodb.NewImage),
                "OldImage": image(r.dynamodb.OldImage),
            }
            for r in records
        ],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
