"""A stream consumer as many are written today: Powertools for AWS Lambda
(Python) `BatchProcessor`, reporting partial batch failures
(`ReportBatchItemFailures`) for Kinesis, DynamoDB Streams and Kafka events.

A Kinesis record, or a Kafka record's value, fails when it is JSON with
`"poison": true`; a DynamoDB stream record fails when its new image has a
`poison` attribute that is true. Every other record succeeds.
`ACCEPT_POISON=1` is the fixed consumer: it takes every record.
"""

import json
import os

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)


class PoisonRecord(Exception):
    """The record is one the consumer cannot take."""


def accept_poison():
    return os.environ.get("ACCEPT_POISON") == "1"


def refuse_poison(data):
    if accept_poison() or data is None:
        return
    try:
        payload = json.loads(data)
    except ValueError:
        return
    if isinstance(payload, dict) and payload.get("poison") is True:
        raise PoisonRecord("record marked poison")


def kinesis_record(record):
    refuse_poison(record.kinesis.data_as_text())


def kafka_record(record):
    refuse_poison(record.decoded_value if record.value is not None else None)


def dynamodb_record(record):
    image = record.dynamodb.new_image or {}
    if image.get("poison") is True and not accept_poison():
        raise PoisonRecord("record marked poison")


def handler(event, context):
    records = event.get("Records") or [{}]
    if event.get("eventSource") in ("aws:kafka", "SelfManagedKafka"):
        processor = BatchProcessor(event_type=EventType.Kafka)
        record_handler = kafka_record
    elif records[0].get("eventSource") == "aws:dynamodb":
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        record_handler = dynamodb_record
    else:
        processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
        record_handler = kinesis_record
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=processor,
        context=context,
    )
