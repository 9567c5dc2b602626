"""Parse a Kafka event with Powertools for AWS Lambda (Python), strictly.

Usage: parse_kafka_event.py EVENT_FILE
Picks KafkaMskEventModel for `aws:kafka` and KafkaSelfManagedEventModel
otherwise, and prints what the model decoded, record by record in order:
{"event_source": ..., "bootstrap_servers": [...], "records": [{"key": "topic-partition",
"offset": O, "timestamp_ms": MS, "key_b64": B64 | null, "value": TEXT,
"headers": [[NAME, B64], ...]}]}. Exits non-zero with the validation error otherwise.
"""
import base64
import json
import sys

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import KafkaMskEventModel, KafkaSelfManagedEventModel


def main(path: str) -> None:
    with open(path, "rb") as f:
        event = json.load(f)
    model_type = KafkaMskEventModel if event.get("eventSource") == "aws:kafka" else KafkaSelfManagedEventModel
    model = parse(event=event, model=model_type)
    records = []
    for partition_key, partition_records in model.records.items():
        for r in partition_records:
            records.append({
                "partition_key": partition_key,
                "offset": r.offset,
                "timestamp_ms": int(r.timestamp.timestamp() * 1000 + 0.5),
                "key_b64": None if r.key is None else base64.b64encode(r.key).decode(),
                "value": r.value,
                "headers": [[name, base64.b64encode(value).decode()] for h in r.headers for name, value in h.items()],
            })
    print(json.dumps({
        "event_source": model.eventSource,
        "bootstrap_servers": model.bootstrapServers,
        "records": records,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
