#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus into fuzz/corpus/input/ (or the folder
given as the first argument): every saved event in events/, and variants of
them. Deterministic: the same events give the same files.

  - each event with ZQXMARKER planted in each string value (also the string
    values of the records that SNS messages and SQS bodies hold as JSON text),
    appended to the value and, for stream ARNs, in place of each part;
  - numbers given as strings that hold quotes and the marker (type errors);
  - truncated copies;
  - S3 on-failure objects: the record with its payload as an object, as a JSON
    *string* holding {"Records":[...]}, as a wrong type, and missing;
  - deeply nested arrays and objects, around the serde_json depth limit (128).

The fuzzer later adds to the corpus; `cargo fuzz cmin input` shrinks it.
"""

import hashlib
import json
import pathlib
import sys

MARKER = "ZQXMARKER"
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz/corpus/input"

seeds = {}


def add(name, data):
    if isinstance(data, str):
        data = data.encode()
    digest = hashlib.sha1(data).hexdigest()[:10]
    seeds.setdefault(data, f"{name}-{digest}")


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def embedded(text):
    """The JSON object a string holds (an SNS Message, an SQS body), if any."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def paths(value, path=()):
    """Every string and number value, with its path; a path step into the
    JSON text a string holds is the marker `"json"`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, path + (index,))
    elif isinstance(value, str):
        inner = embedded(value)
        if inner is not None:
            yield from paths(inner, path + ("json",))
        else:
            yield path, value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def replaced(value, path, new):
    """`value` with the item at `path` replaced, re-encoding embedded JSON."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    if step == "json":
        return compact(replaced(embedded(value), rest, new))
    copy = value.copy()
    copy[step] = replaced(value[step], rest, new)
    return copy


def name_of(path):
    return ".".join(str(p) for p in path if p != "json")


def planted(stem, event):
    for path, value in paths(event):
        # Past the first record of an event, only the record a message
        # carries differs: its envelope repeats the first one's.
        if path[:1] == ("Records",) and path[1] > 0 and "json" not in path:
            continue
        where = name_of(path)
        if isinstance(value, str):
            add(f"{stem}-mark-{where}", compact(replaced(event, path, value + MARKER)))
            if value.startswith("arn:") and path[-1] == "streamArn":
                parts = value.split(":")
                for i in range(1, min(len(parts), 6)):
                    arn = ":".join(parts[:i] + [MARKER] + parts[i + 1 :])
                    add(f"{stem}-arn{i}-{where}", compact(replaced(event, path, arn)))
        else:
            # A number where a string goes, or a string with quotes where a
            # number goes: serde quotes the value it did not expect.
            wrong = f'{value}"{MARKER}"'
            add(f"{stem}-type-{where}", compact(replaced(event, path, wrong)))


events = sorted((ROOT / "events").glob("*.json"))
for path in events:
    text = path.read_bytes()
    stem = path.stem
    add(f"event-{stem}", text)
    for fraction in (4, 2):
        add(f"trunc-{stem}", text[: len(text) * (fraction - 1) // fraction])
    event = json.loads(text)
    # Near-duplicates of other events add nothing but size.
    if stem in ("sns-kinesis-failure-single-record", "bad-sns-kinesis-start-after-end"):
        continue
    planted(stem, event)

# S3 on-failure objects: the record, and the payload the mapping saved.
record = json.loads((ROOT / "events/kinesis-failure-direct.json").read_text())
ddb_record = json.loads((ROOT / "events/pipes-dynamodb-failure-direct.json").read_text())
kinesis_records = {
    "Records": [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "order-1",
                "sequenceNumber": "49601189658422359378836298521827638475320189012309704722",
                "data": "eyJvcmRlciI6MX0=",
                "approximateArrivalTimestamp": 1795426324.835,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000001:49601189658422359378836298521827638475320189012309704722",
            "eventName": "aws:kinesis:record",
            "awsRegion": "us-east-2",
            "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
        }
    ]
}
marked_records = json.loads(compact(kinesis_records).replace("order-1", MARKER))
objects = {
    "object": dict(record, payload=kinesis_records),
    "object-marked": dict(record, payload=marked_records),
    "object-string-payload": dict(record, payload=compact(kinesis_records)),
    "object-string-payload-marked": dict(record, payload=compact(marked_records)),
    "object-empty-payload": dict(record, payload={"Records": []}),
    "object-records-number": dict(record, payload={"Records": 5}),
    "object-records-string": dict(record, payload={"Records": MARKER}),
    "object-no-payload": record,
    "object-dynamodb": dict(ddb_record, payload={"Records": [{"eventName": "MODIFY", "dynamodb": {}}]}),
    "object-payload-only": {"payload": kinesis_records},
}
for name, value in objects.items():
    add(name, json.dumps(value, indent=1))

# Deep nesting, below, at and past serde_json's recursion limit.
for depth in (100, 127, 128, 129, 5000):
    add(f"nested-array-{depth}", "[" * depth + "]" * depth)
    add(f"nested-records-{depth}", '{"Records":' + "[" * depth + "]" * depth + "}")
    add(f"nested-object-{depth}", '{"a":' * depth + "1" + "}" * depth)
add("nested-unclosed", "[" * 20000)
nested_message = "[" * 200 + "]" * 200
sns = json.loads((ROOT / "events/sns-kinesis-failure.json").read_text())
sns["Records"][0]["Sns"]["Message"] = nested_message
add("nested-sns-message", compact(sns))
add("nested-batch-info", compact(dict(record, KinesisBatchInfo=json.loads("[" * 130 + "]" * 130))))

# Small odd ones.
for name, data in {
    "empty": b"",
    "not-utf8": b"\xff\xfe{}",
    "array": b"[]",
    "records-empty": b'{"Records":[]}',
    "mixed": b'{"Records":[{"EventSource":"aws:sns"},{"eventSource":"aws:sqs"}]}',
}.items():
    add(name, data)
# The marker spelt with a JSON escape: the bytes never hold it, the decoded
# string does.
escaped = compact(replaced(record, ("KinesisBatchInfo", "streamArn"), "arn:aws:ESCAPED:us-east-2:123456789012:stream/s"))
add("escaped-marker", escaped.replace("ESCAPED", "\\u005a" + MARKER[1:]))

OUT.mkdir(parents=True, exist_ok=True)
for data, name in sorted(seeds.items(), key=lambda item: item[1]):
    (OUT / name).write_bytes(data)
print(f"{len(seeds)} seeds, {sum(len(d) for d in seeds)} bytes, in {OUT}")
