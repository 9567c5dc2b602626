"""Write records to a new topic with kafka-python, a standard Kafka client.

Usage: produce.py < REQUEST
REQUEST is JSON: {"bootstrap": "host:port", "topic": "...", "partitions": N,
"records": [{"partition": P, "key": B64 | null, "value": B64 | null,
"headers": [[NAME, B64], ...]}, ...], "ssl_cafile": PATH (optional: TLS, trusting
that authority), "ssl_certfile" and "ssl_keyfile": PATHs (optional: a client
certificate, for mutual TLS), "compression": "gzip" | "snappy" | "lz4" |
"zstd" (optional: the producer's compression_type), "pause_before_last_ms": N
(optional: wait before writing the last record)}. Creates the topic,
writes each record to its partition in order, and prints what the broker
acknowledged, in the same order: [{"partition": P, "offset": O,
"timestamp": MS}, ...].

Each record is sent, and acknowledged, alone: a batch of one. tansu's
ListOffsets counts a partition's batches, not its records, so a batch of
several would hide all but its first from a reader that asks where the log
ends, as the hydrator does.
"""
import base64
import json
import sys
import time

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic


def main() -> None:
    request = json.load(sys.stdin)
    bootstrap = request["bootstrap"]
    tls = {}
    if request.get("ssl_cafile"):
        tls = {"security_protocol": "SSL", "ssl_cafile": request["ssl_cafile"]}
    if request.get("ssl_certfile"):
        tls.update(ssl_certfile=request["ssl_certfile"], ssl_keyfile=request["ssl_keyfile"])
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **tls)
    admin.create_topics([NewTopic(request["topic"], request["partitions"], 1)])
    admin.close()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=0, compression_type=request.get("compression"), **tls
    )
    decode = lambda b64: None if b64 is None else base64.b64decode(b64)
    acknowledged = []
    records = request["records"]
    for index, record in enumerate(records):
        if index == len(records) - 1 and request.get("pause_before_last_ms"):
            time.sleep(request["pause_before_last_ms"] / 1000)
        metadata = producer.send(
            request["topic"],
            key=decode(record["key"]),
            value=decode(record["value"]),
            partition=record["partition"],
            headers=[(name, base64.b64decode(value)) for name, value in record["headers"]],
        ).get(timeout=20)
        acknowledged.append(
            {"partition": metadata.partition, "offset": metadata.offset, "timestamp": metadata.timestamp}
        )
    producer.close()
    print(json.dumps(acknowledged))


if __name__ == "__main__":
    main()
