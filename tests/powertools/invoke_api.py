"""Lambda's Invoke API for one Python handler, served locally as
`sam local start-lambda` and `cargo lambda watch` serve it, so `hydrator
replay` can be tried over the wire against a real consumer.

    python invoke_api.py --function NAME --handler MODULE:FUNCTION
        [--throttle SEQUENCE_NUMBER=TIMES] [--log FILE]

Serves `POST /2015-03-31/functions/NAME/invocations` on 127.0.0.1 at a free
port and prints `PORT <n>` once listening. Answers as Lambda answers a
RequestResponse invocation:
- the handler's return value as JSON, 200;
- an exception as the error document, 200 with `X-Amz-Function-Error: Unhandled`;
- a body over 6 MB: 413 RequestTooLargeException; an unknown function: 404
  ResourceNotFoundException;
- `--throttle SEQ=N`: the first N invocations whose event holds the record
  with sequence number SEQ get 429 TooManyRequestsException.

`--log FILE` appends one JSON line per request: the sequence numbers (a
Kafka record: `<topic>-<partition>@<offset>`) it
carried and the status answered. One request at a time; bodies are read only
in bounded chunks.
"""

import argparse
import importlib
import json
import os
import sys
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

# Lambda's limit on a synchronous invocation's request payload.
MAX_REQUEST_BYTES = 6 * 1024 * 1024


class Context:
    """The parts of Lambda's context object a Powertools handler reads."""

    def __init__(self, function_name):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        )
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self):
        return 300_000


def sequence_numbers(event):
    numbers = []
    records = event.get("Records") if isinstance(event, dict) else None
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue
        kinesis = record.get("kinesis") or {}
        dynamodb = record.get("dynamodb") or {}
        number = kinesis.get("sequenceNumber") or dynamodb.get("SequenceNumber")
        if isinstance(number, str):
            numbers.append(number)
    # A Kafka event's records, named `<topic>-<partition>@<offset>` as the tool names them.
    partitions = event.get("records") if isinstance(event, dict) else None
    for key, records in partitions.items() if isinstance(partitions, dict) else []:
        for record in records if isinstance(records, list) else []:
            if isinstance(record, dict):
                numbers.append(f"{key}@{record.get('offset')}")
    return numbers


def make_handler_class(function, handler, throttles, log_file):
    class InvokeApi(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def service_error(self, status, error_type, message, reason=None):
            body = {"Type": "User", "message": message}
            if reason:
                body["Reason"] = reason
            self.answer(status, body, [("x-amzn-ErrorType", error_type)])

        def record(self, numbers, status):
            if log_file:
                with open(log_file, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"sequenceNumbers": numbers, "status": status}))
                    log.write("\n")

        def do_POST(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) != 4 or parts[0] != "2015-03-31" or parts[1] != "functions" \
                    or parts[3] != "invocations":
                self.close_connection = True
                return self.service_error(404, "UnknownOperationException", "Unknown operation")
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_REQUEST_BYTES:
                # Read past the body a chunk at a time, so the client sees the
                # answer rather than a reset; memory stays bounded.
                remaining = max(length, 0)
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 65536))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                self.close_connection = True
                self.record([], 413)
                return self.service_error(
                    413,
                    "RequestTooLargeException",
                    f"Request must be smaller than {MAX_REQUEST_BYTES} bytes "
                    "for the InvokeFunction operation",
                )
            body = self.rfile.read(length)
            name = parts[2].split(":")[-1]
            if name != function:
                self.record([], 404)
                return self.service_error(
                    404, "ResourceNotFoundException", "Function not found"
                )
            try:
                event = json.loads(body or b"null")
            except ValueError:
                self.record([], 400)
                return self.service_error(
                    400, "InvalidRequestContentException", "Could not parse request body into json"
                )
            numbers = sequence_numbers(event)
            for number in numbers:
                if throttles.get(number, 0) > 0:
                    throttles[number] -= 1
                    self.record(numbers, 429)
                    return self.service_error(
                        429,
                        "TooManyRequestsException",
                        "Rate Exceeded.",
                        "ReservedFunctionConcurrentInvocationLimitExceeded",
                    )
            try:
                result = handler(event, Context(function))
            except Exception as error:  # the function's unhandled error
                self.record(numbers, 200)
                return self.answer(
                    200,
                    {
                        "errorMessage": str(error),
                        "errorType": type(error).__name__,
                        "requestId": "",
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    },
                    [("X-Amz-Function-Error", "Unhandled"), ("X-Amz-Executed-Version", "$LATEST")],
                )
            self.record(numbers, 200)
            self.answer(200, result, [("X-Amz-Executed-Version", "$LATEST")])

    return InvokeApi


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", required=True)
    parser.add_argument("--handler", required=True, help="MODULE:FUNCTION")
    parser.add_argument("--throttle", action="append", default=[], help="SEQ=TIMES")
    parser.add_argument("--log")
    args = parser.parse_args()

    module_name, _, function_name = args.handler.partition(":")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    handler = getattr(importlib.import_module(module_name), function_name)
    throttles = {}
    for spec in args.throttle:
        number, _, times = spec.partition("=")
        throttles[number] = int(times)

    server = HTTPServer(
        ("127.0.0.1", 0), make_handler_class(args.function, handler, throttles, args.log)
    )
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
