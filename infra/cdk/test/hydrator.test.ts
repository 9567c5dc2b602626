/**
 * The construct, synthesized in an app with a KMS-encrypted Kinesis stream
 * and a DynamoDB table's stream feeding one consumer: both mappings send to
 * the hydrator's topic, the consumer may publish (and use the key), the
 * hydrator may read those two streams alone, and cdk-nag (AwsSolutions) finds
 * no error in the construct that is not acknowledged with a reason.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { cargoLambdaOutput, Hydrator } from '../src';
import { ordersApp, standInCode } from './fixture';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** Every statement of the IAM policies attached to `roleId`, as (sorted actions, resource, condition). */
function grantsOf(template: Template, roleId: string): string[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const grants: string[] = [];
  for (const policy of Object.values(policies) as Json[]) {
    if (!policy.Properties.Roles.some((r: Json) => r.Ref === roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      assert.equal(statement.Effect, 'Allow');
      const actions = [statement.Action].flat().sort().join(',');
      grants.push(JSON.stringify([actions, statement.Resource, statement.Condition ?? null]));
    }
  }
  return grants.sort();
}

function grant(actions: string[], resource: Json, condition: Json = null): string {
  return JSON.stringify([[...actions].sort().join(','), resource, condition]);
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

test('both mappings of the consumer send their on-failure records to the hydrator topic', () => {
  const { stack, hydrator, stream, table } = ordersApp();
  const template = Template.fromStack(stack);
  const topic = { Ref: stack.getLogicalId(hydrator.topic.node.defaultChild as never) };
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as Json[];
  const consumerMappings = mappings.filter((m) => m.Properties.DestinationConfig);
  assert.deepEqual(
    consumerMappings.map((m) => m.Properties.EventSourceArn).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [arnOf(logicalId(stack, stream)), { 'Fn::GetAtt': [logicalId(stack, table), 'StreamArn'] }],
  );
  for (const mapping of consumerMappings) {
    assert.deepEqual(mapping.Properties.DestinationConfig, { OnFailure: { Destination: topic } });
    assert.equal(mapping.Properties.BisectBatchOnFunctionError, true);
    assert.equal(mapping.Properties.MaximumRetryAttempts, 2);
  }
  // The hydrator's own trigger: the on-failure queue the topic delivers to.
  const trigger = mappings.filter((m) => !m.Properties.DestinationConfig);
  assert.equal(trigger.length, 1);
  assert.deepEqual(trigger[0].Properties.EventSourceArn, arnOf(logicalId(stack, hydrator.onFailureQueue)));
  assert.deepEqual(trigger[0].Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'sqs',
    TopicArn: topic,
    Endpoint: arnOf(logicalId(stack, hydrator.onFailureQueue)),
    RawMessageDelivery: true,
    RedrivePolicy: { deadLetterTargetArn: arnOf(logicalId(stack, hydrator.hydratorFailures)) },
  });
});

test('the consumer may publish to the topic and use its key, and nothing else of the hydrator', () => {
  const { stack, hydrator, consumer } = ordersApp();
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(consumer.role!.node.defaultChild as never);
  const topicId = stack.getLogicalId(hydrator.topic.node.defaultChild as never);
  const keyId = logicalId(stack, hydrator.key);
  const grants = grantsOf(template, roleId);
  assert.ok(grants.includes(grant(['sns:Publish'], { Ref: topicId })), grants.join('\n'));
  assert.ok(grants.includes(grant(['kms:Decrypt', 'kms:GenerateDataKey*'], arnOf(keyId))), grants.join('\n'));
  // Every other statement is the consumer reading its own sources.
  const hydratorIds = new Set(hydrator.node.findAll().filter((c) => (c as Json).cfnResourceType).map((c) => stack.getLogicalId(c as never)));
  const touchingHydrator = grants.filter((g) => [...hydratorIds].some((id) => g.includes(`"${id}"`)));
  assert.equal(touchingHydrator.length, 2, touchingHydrator.join('\n'));
});

test('the hydrator reads exactly the two streams it was given, and decrypts the Kinesis one through Kinesis', () => {
  const { stack, hydrator, stream, streamKey, table } = ordersApp();
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => logicalId(stack, c);
  const key = arnOf(id(hydrator.key));
  const via = (service: string) => ({ StringEquals: { 'kms:ViaService': `${service}.eu-west-1.amazonaws.com` } });
  const expected = [
    grant(['logs:CreateLogStream', 'logs:PutLogEvents'], arnOf(Object.keys(template.findResources('AWS::Logs::LogGroup'))[0])),
    grant(['sqs:SendMessage'], arnOf(id(hydrator.dlq as never))),
    grant(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], arnOf(id(hydrator.onFailureQueue))),
    grant(['sqs:SendMessage'], arnOf(id(hydrator.hydratorFailures))),
    grant(['kms:GenerateDataKey', 'kms:Decrypt'], key, via('sqs')),
    grant(['s3:PutObject'], { 'Fn::Join': ['', [arnOf(id(hydrator.offloadBucket!)), '/hydrator/*']] }),
    grant(['kms:GenerateDataKey'], key, via('s3')),
    grant(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'], arnOf(Object.keys(template.findResources('AWS::DynamoDB::Table', { Properties: { TimeToLiveSpecification: { AttributeName: 'expires' } } }))[0])),
    grant(['kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:DescribeStreamSummary'], arnOf(id(stream))),
    grant(['kms:Decrypt'], arnOf(id(streamKey)), via('kinesis')),
    grant(['dynamodb:GetShardIterator', 'dynamodb:GetRecords'], { 'Fn::GetAtt': [id(table), 'StreamArn'] }),
  ].sort();
  assert.deepEqual(grantsOf(template, id(hydrator.role)), expected);
  // No managed policy: the statements above are all the role has.
  const role = template.toJSON().Resources[id(hydrator.role)];
  assert.equal(role.Properties.ManagedPolicyArns, undefined);
  assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
});

test('the construct builds what infra/template.yaml builds', () => {
  const { stack, hydrator } = ordersApp();
  const template = Template.fromStack(stack);
  const key = arnOf(logicalId(stack, hydrator.key));
  template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'hydrator - encrypts the on-failure topic, the queues and offloaded bodies' });
  template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: key });
  template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: key }, 3);
  template.hasResourceProperties('AWS::SQS::Queue', {
    VisibilityTimeout: 720,
    RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: arnOf(logicalId(stack, hydrator.hydratorFailures)) },
  });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    Architectures: ['arm64'],
    MemorySize: 128,
    Timeout: 120,
    KmsKeyArn: key,
    LoggingConfig: { LogFormat: 'JSON' },
  });
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    MaximumRetryAttempts: 2,
    DestinationConfig: { OnFailure: { Destination: arnOf(logicalId(stack, hydrator.hydratorFailures)) } },
  });
  template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true } });
  template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  template.resourceCountIs('AWS::Logs::LogGroup', 1);
  // Only this account publishes.
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: [
        { Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        { Effect: 'Allow', Action: 'sns:Publish', Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } } },
      ],
    },
  });
  // The metric helpers read the function's own metrics.
  const metric = hydrator.metricRecordsMissing();
  assert.equal(metric.namespace, 'Hydrator');
  assert.equal(metric.metricName, 'RecordsMissing');
  assert.deepEqual(Object.keys(metric.dimensions ?? {}), ['FunctionName']);
  assert.equal(hydrator.metricDocuments('Partial').metricName, 'DocumentsPartial');
  assert.equal(hydrator.metricRetentionMargin().statistic, 'Minimum');
});

test('cdk-nag AwsSolutions finds no error in the construct that is not acknowledged with a reason', () => {
  const { stack, hydrator } = ordersApp();
  Template.fromStack(stack);
  const report = new AwsSolutionsChecks().validateScope(stack);
  const inHydrator = (path: string | undefined) => !!path && path.startsWith(`${hydrator.node.path}/`);
  const errors = report.violations.filter(
    (v) => v.severity === 'error' && v.violatingResources.some((r) => inHydrator(r.constructPath)),
  );
  assert.deepEqual(
    errors.map((e) => `${e.ruleName} at ${e.violatingResources.map((r) => r.constructPath).join(', ')}`),
    [],
  );
  // Each acknowledgement carries its reason.
  const acknowledged = hydrator.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
    .flatMap((m) => Object.entries(m.data as Record<string, string>));
  assert.ok(acknowledged.length >= 5, `acknowledged: ${acknowledged.length}`);
  for (const [rule, reason] of acknowledged) assert.ok(reason.length > 30, `${rule} has a reason`);
  // The checks do run: the same rules find the unacknowledged bucket below.
  const bare = new Stack(new App(), 'Bare');
  new s3.Bucket(bare, 'Plain');
  const bareErrors = new AwsSolutionsChecks().validateScope(bare).violations.filter((v) => v.severity === 'error');
  assert.ok(bareErrors.some((v) => v.ruleName === 'AwsSolutions-S1'), 'S1 fires on a bucket without access logs');
});

test('an S3 failure bucket may invoke the hydrator, for that bucket of this account, and notifies it', () => {
  const app = new App();
  const stack = new Stack(app, 'Failures', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucketKey = new kms.Key(stack, 'BucketKey', { enableKeyRotation: true });
  const hydrator = new Hydrator(stack, 'Hydrator', {
    code: standInCode(),
    failureBucketName: 'orders-failures',
    createFailureBucket: true,
    failureBucketKey: bucketKey,
  });
  const template = Template.fromStack(stack);
  const functionArn = arnOf(logicalId(stack, hydrator.function));
  const bucketArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::orders-failures']] };
  template.hasResourceProperties('AWS::Lambda::Permission', {
    FunctionName: functionArn,
    Action: 'lambda:InvokeFunction',
    Principal: 's3.amazonaws.com',
    SourceAccount: '123456789012',
    SourceArn: bucketArn,
  });
  const [permissionId] = Object.keys(template.findResources('AWS::Lambda::Permission'));
  template.hasResource('AWS::S3::Bucket', {
    DependsOn: [permissionId],
    Properties: {
      BucketName: 'orders-failures',
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(logicalId(stack, bucketKey)) } }],
      },
      NotificationConfiguration: {
        LambdaConfigurations: [
          { Event: 's3:ObjectCreated:*', Function: functionArn, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'aws/lambda/' }] } } },
        ],
      },
    },
  });
  const grants = grantsOf(template, logicalId(stack, hydrator.role));
  assert.ok(
    grants.includes(grant(['s3:GetObject'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::orders-failures/aws/lambda/*']] })),
    grants.join('\n'),
  );
  assert.ok(
    grants.includes(grant(['kms:Decrypt'], arnOf(logicalId(stack, bucketKey)), { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } })),
    grants.join('\n'),
  );
  // No notifications custom resource (its function and wildcard role).
  template.resourceCountIs('Custom::S3BucketNotifications', 0);
  const report = new AwsSolutionsChecks().validateScope(stack);
  const errors = report.violations.filter((v) => v.severity === 'error' && v.violatingResources.some((r) => !!r.constructPath && r.constructPath.startsWith('Failures/Hydrator/')));
  assert.deepEqual(errors.map((e) => e.ruleName), []);
});

test('an existing failure bucket gets the permission and the grants, and no bucket', () => {
  const stack = new Stack(new App(), 'Existing', { env: { account: '123456789012', region: 'eu-west-1' } });
  const hydrator = new Hydrator(stack, 'Hydrator', { code: standInCode(), failureBucketName: 'orders-failures' });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Lambda::Permission', 1);
  // The offload bucket alone.
  template.resourceCountIs('AWS::S3::Bucket', 1);
  assert.equal(hydrator.failureBucket, undefined);
});

test('a table without a stream, and a missing build, are refused with what to do', () => {
  const stack = new Stack(new App(), 'Refused');
  const hydrator = new Hydrator(stack, 'Hydrator', { code: standInCode() });
  const table = new dynamodb.Table(stack, 'NoStream', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  assert.throws(() => hydrator.onFailure(table), /has no stream/);
  assert.throws(() => cargoLambdaOutput('/nonexistent/target/lambda/hydrate'), /cargo lambda build --release --arm64 --bin hydrate/);
  // A stream of another stack is read by ARN all the same.
  const other = kinesis.Stream.fromStreamArn(stack, 'Imported', 'arn:aws:kinesis:eu-west-1:123456789012:stream/elsewhere');
  assert.ok(hydrator.onFailure(other));
});
