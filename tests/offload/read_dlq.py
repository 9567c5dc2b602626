"""Reads the dead-letter queue as a consumer that uses the SQS Extended Client
Library for Python would: through `sqs_extended_client`, which follows the
S3 pointers of offloaded messages. Prints one JSON line a message: its body
as the library gives it, and whether the library fetched it from S3.

    read_dlq.py QUEUE_URL COUNT

Endpoints, credentials and region come from the environment, as for boto3.
"""
import json
import sys
import time

import boto3
import sqs_extended_client  # noqa: F401  (replaces boto3's session with the library's)

S3_MARKER = "-..s3Key..-"


def main():
    queue_url, count = sys.argv[1], int(sys.argv[2])
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + 30
    received = 0
    while received < count and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        for message in answer.get("Messages", []):
            received += 1
            print(json.dumps({
                "body": message["Body"],
                "fromS3": S3_MARKER in message["ReceiptHandle"],
            }))


if __name__ == "__main__":
    main()
