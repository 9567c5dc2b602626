"""Aggregates user records with the KPL format's reference aggregator for
Python (aws-kinesis-agg), as a KPL producer would before PutRecords.

Reads a JSON file: a list of groups, each a list of {"pk", "ehk" (or null),
"data" (base64)}. Prints a JSON list with one aggregated Kinesis record a
group: {"pk", "ehk", "data" (base64)}."""

import base64
import json
import sys

from aws_kinesis_agg.aggregator import RecordAggregator

out = []
for group in json.load(open(sys.argv[1])):
    aggregator = RecordAggregator()
    for user in group:
        full = aggregator.add_user_record(user["pk"], base64.b64decode(user["data"]), user["ehk"])
        if full is not None:
            sys.exit("a group does not fit one aggregated record")
    pk, ehk, data = aggregator.clear_and_get().get_contents()
    out.append({"pk": pk, "ehk": ehk, "data": base64.b64encode(data).decode()})
print(json.dumps(out))
