"""Wire two consumers to a hydrator in moto, one right and one wrong, for
tests/doctor.rs; print what `hydrator doctor` needs to know as JSON.

Right: a Kinesis stream and a DynamoDB table's stream, each mapped with two
retries, bisection, an hour's record age and the hydrator's topic as the
on-failure destination; the consumer's role may publish and use the key, and
the hydrator's role may read both streams.
Wrong: a stream the hydrator may not read, mapped with retries for ever, no
bisection, no record age, and an SQS queue as the destination, by a role that
may not publish.

Usage: wire.py MOTO_ENDPOINT SUFFIX
"""
import io
import json
import sys
import zipfile

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"


def main(endpoint: str, suffix: str) -> None:
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
    iam, kinesis, dynamodb, sns, sqs, awslambda = (
        client(s) for s in ("iam", "kinesis", "dynamodb", "sns", "sqs", "lambda")
    )

    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/doctor-{suffix}"
    topic = sns.create_topic(Name=f"failures-{suffix}", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    elsewhere = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName=f"elsewhere-{suffix}")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    def stream(name: str) -> str:
        kinesis.create_stream(StreamName=f"{name}-{suffix}", ShardCount=1)
        return kinesis.describe_stream_summary(StreamName=f"{name}-{suffix}")["StreamDescriptionSummary"]["StreamARN"]

    orders, unread = stream("orders"), stream("unread")
    table_stream = dynamodb.create_table(
        TableName=f"orders-{suffix}",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]

    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    def role(name: str, statements: list) -> str:
        arn = iam.create_role(RoleName=f"{name}-{suffix}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if statements:
            iam.put_role_policy(RoleName=f"{name}-{suffix}", PolicyName="grants",
                                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        return arn

    hydrator = role("hydrator", [
        {"Effect": "Allow", "Action": ["kinesis:GetShardIterator", "kinesis:GetRecords"], "Resource": orders},
        {"Effect": "Allow", "Action": ["dynamodb:GetShardIterator", "dynamodb:GetRecords"], "Resource": table_stream},
    ])
    right_role = role("consumer-right", [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": key},
    ])
    wrong_role = role("consumer-wrong", [
        {"Effect": "Allow", "Action": "kinesis:*", "Resource": unread},
    ])

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")

    def function(name: str, role_arn: str) -> str:
        awslambda.create_function(FunctionName=f"{name}-{suffix}", Runtime="python3.12", Role=role_arn,
                                  Handler="index.handler", Code={"ZipFile": archive.getvalue()})
        return f"{name}-{suffix}"

    right, wrong = function("consumer-right", right_role), function("consumer-wrong", wrong_role)
    for source in (orders, table_stream):
        awslambda.create_event_source_mapping(
            FunctionName=right, EventSourceArn=source, StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=2, BisectBatchOnFunctionError=True, MaximumRecordAgeInSeconds=3600,
            DestinationConfig={"OnFailure": {"Destination": topic}})
    wrong_mapping = awslambda.create_event_source_mapping(
        FunctionName=wrong, EventSourceArn=unread, StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=-1, BisectBatchOnFunctionError=False,
        DestinationConfig={"OnFailure": {"Destination": elsewhere}})["UUID"]

    print(json.dumps({"topic": topic, "key": key, "hydrator_role": hydrator, "right_function": right,
                      "wrong_function": wrong, "wrong_mapping": wrong_mapping}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
