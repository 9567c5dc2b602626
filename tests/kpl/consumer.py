"""A consumer of a Kinesis event that de-aggregates KPL records with
aws-kinesis-agg's deaggregator, as consumers do, and fails on the first user
record whose data is not JSON. Prints that user record's sequence number,
sub-sequence number and partition key, and exits with 1; prints {} and exits
with 0 when every user record is JSON."""

import base64
import json
import sys

from aws_kinesis_agg.deaggregator import iter_deaggregate_records

event = json.load(open(sys.argv[1]))
for record in iter_deaggregate_records(event["Records"]):
    kinesis = record["kinesis"]
    try:
        json.loads(base64.b64decode(kinesis["data"]))
    except ValueError:
        print(json.dumps({
            "sequenceNumber": kinesis["sequenceNumber"],
            "subSequenceNumber": kinesis.get("subSequenceNumber"),
            "partitionKey": kinesis["partitionKey"],
        }))
        sys.exit(1)
print("{}")
