/**
 * The construct with Kafka: an MSK consumer's and a self-managed consumer's
 * mappings send their failures to the hydrator's topic; the hydrator's role
 * may connect to the clusters given and read their topics (IAM), read the
 * SCRAM secret alone and decrypt it through Secrets Manager, and manage the
 * network interfaces of a function in the VPC; nothing else. cdk-nag finds no
 * error it is not told why to accept.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { App, Fn, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Hydrator, topicsOf } from '../src';
import { standInCode } from './fixture';
import { kafkaConsumer, MSK_BROKERS, ORDERS_CLUSTER, SELF_MANAGED_BROKERS } from './kafka-fixture';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The statements of the policies attached to `roleId`, by Sid. */
function statementsOf(template: Template, roleId: string): Record<string, Json> {
  const statements: Record<string, Json> = {};
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Json[]) {
    if (!policy.Properties.Roles.some((r: Json) => r.Ref === roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) statements[statement.Sid ?? JSON.stringify(statement)] = statement;
  }
  return statements;
}

const kafkaSids = [
  'ConnectToKafkaClusters',
  'ReadKafkaTopics',
  'ReadScramSecret',
  'DecryptScramSecret',
  'ReadClientCertificateSecret',
  'DecryptClientCertificateSecret',
  'ManageVpcNetworkInterfaces',
  'DescribeVpcNetworkInterfaces',
];

function kafkaStatements(template: Template, roleId: string): Record<string, Json> {
  const all = statementsOf(template, roleId);
  // Nothing of Kafka hides under another name.
  for (const [sid, statement] of Object.entries(all)) {
    if (kafkaSids.includes(sid)) continue;
    const actions = [statement.Action].flat().join(',');
    assert.ok(!/kafka|ec2:|secretsmanager:/.test(actions), `${sid}: ${actions}`);
  }
  return Object.fromEntries(Object.entries(all).filter(([sid]) => kafkaSids.includes(sid)));
}

const roleOf = (stack: Stack, hydrator: Hydrator) => stack.getLogicalId(hydrator.role.node.defaultChild as never);
const ec2Arn = (resource: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:eu-west-1:123456789012:${resource}/*`]],
});
const networkInterfaceStatements = {
  ManageVpcNetworkInterfaces: {
    Sid: 'ManageVpcNetworkInterfaces',
    Effect: 'Allow',
    Action: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    Resource: [ec2Arn('network-interface'), ec2Arn('subnet'), ec2Arn('security-group')],
  },
  DescribeVpcNetworkInterfaces: {
    Sid: 'DescribeVpcNetworkInterfaces',
    Effect: 'Allow',
    Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
    Resource: '*',
  },
};

test('an MSK cluster read with IAM: connect to it, read its topics, no group, in the VPC', () => {
  const { stack, hydrator, consumer } = kafkaConsumer('msk');
  const template = Template.fromStack(stack);
  assert.deepEqual(kafkaStatements(template, roleOf(stack, hydrator)), {
    ConnectToKafkaClusters: { Sid: 'ConnectToKafkaClusters', Effect: 'Allow', Action: 'kafka-cluster:Connect', Resource: ORDERS_CLUSTER },
    ReadKafkaTopics: {
      Sid: 'ReadKafkaTopics',
      Effect: 'Allow',
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      Resource: 'arn:aws:kafka:eu-west-1:123456789012:topic/orders-prod/8f2b6c1e-3a4d-4e5f-9a8b-7c6d5e4f3a2b-3/*',
    },
    ...networkInterfaceStatements,
  });
  const functionId = stack.getLogicalId(hydrator.function.node.defaultChild as never);
  const properties = template.toJSON().Resources[functionId].Properties;
  assert.deepEqual(properties.VpcConfig, { SubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
  const kafkaVariables = Object.fromEntries(Object.entries(properties.Environment.Variables).filter(([name]) => name.startsWith('KAFKA_')));
  assert.deepEqual(kafkaVariables, { KAFKA_AUTH: 'iam', KAFKA_BOOTSTRAP_ALLOWLIST: MSK_BROKERS.join(','), KAFKA_CLUSTER_ARNS: ORDERS_CLUSTER });
  // The explicit role: the VPC brings no managed policy.
  assert.equal(template.toJSON().Resources[roleOf(stack, hydrator)].Properties.ManagedPolicyArns, undefined);
  // The consumer's mapping fails over to the hydrator's topic, which it may publish to.
  const topic = { Ref: stack.getLogicalId(hydrator.topic.node.defaultChild as never) };
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    EventSourceArn: ORDERS_CLUSTER,
    Topics: ['order-events-v2'],
    DestinationConfig: { OnFailure: { Destination: topic } },
  });
  const consumerRole = stack.getLogicalId(consumer.role!.node.defaultChild as never);
  const published = Object.values(statementsOf(template, consumerRole)).filter((s: Json) => s.Action === 'sns:Publish');
  assert.deepEqual(published.map((s: Json) => s.Resource), [topic]);
});

test('a self-managed cluster read with SCRAM: its secret alone, decrypted through Secrets Manager', () => {
  const { stack, hydrator, secret, secretKey } = kafkaConsumer('self-managed');
  const template = Template.fromStack(stack);
  const secretId = stack.getLogicalId(secret.node.defaultChild as never);
  assert.deepEqual(kafkaStatements(template, roleOf(stack, hydrator)), {
    ReadScramSecret: { Sid: 'ReadScramSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } },
    DecryptScramSecret: {
      Sid: 'DecryptScramSecret',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(secretKey.node.defaultChild as never), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    },
    ...networkInterfaceStatements,
  });
  const functionId = stack.getLogicalId(hydrator.function.node.defaultChild as never);
  const variables = template.toJSON().Resources[functionId].Properties.Environment.Variables;
  assert.equal(variables.KAFKA_AUTH, 'scram-sha-512');
  assert.equal(variables.KAFKA_BOOTSTRAP_ALLOWLIST, SELF_MANAGED_BROKERS.join(','));
  assert.deepEqual(variables.KAFKA_SCRAM_SECRET_ARN, { Ref: secretId });
  assert.equal(variables.KAFKA_CLUSTER_ARNS, undefined);
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: SELF_MANAGED_BROKERS } },
    DestinationConfig: { OnFailure: { Destination: { Ref: stack.getLogicalId(hydrator.topic.node.defaultChild as never) } } },
  });
});

test('outside a VPC and with another authentication, no network or cluster grant', () => {
  const { stack, hydrator } = kafkaConsumer('msk', new App(), { auth: 'tls', vpc: undefined, vpcSubnets: undefined, securityGroups: undefined });
  const template = Template.fromStack(stack);
  assert.deepEqual(kafkaStatements(template, roleOf(stack, hydrator)), {});
  const functionId = stack.getLogicalId(hydrator.function.node.defaultChild as never);
  const properties = template.toJSON().Resources[functionId].Properties;
  assert.equal(properties.VpcConfig, undefined);
  assert.equal(properties.Environment.Variables.KAFKA_AUTH, 'tls');
});

test("a cluster's topics are derived from its ARN, a reference's by CloudFormation", () => {
  assert.equal(
    topicsOf('arn:aws-cn:kafka:cn-north-1:123456789012:cluster/a-b/uuid-1'),
    'arn:aws-cn:kafka:cn-north-1:123456789012:topic/a-b/uuid-1/*',
  );
  assert.throws(() => topicsOf('arn:aws:kafka:eu-west-1:123456789012:topic/a/uuid-1/t'), /not an MSK cluster ARN/);
  const stack = new Stack(new App(), 'Imported', { env: { account: '123456789012', region: 'eu-west-1' } });
  const imported = Fn.importValue('orders-ClusterArn');
  const halves = (i: number) => ({ 'Fn::Select': [i, { 'Fn::Split': [':cluster/', { 'Fn::ImportValue': 'orders-ClusterArn' }] }] });
  assert.deepEqual(stack.resolve(topicsOf(imported)), { 'Fn::Join': ['', [halves(0), ':topic/', halves(1), '/*']] });
  // An imported cluster's grants, acknowledged to cdk-nag as it writes them.
  const hydrator = new Hydrator(stack, 'Hydrator', { code: standInCode(), kafka: { clusterArns: [imported], bootstrapServers: MSK_BROKERS } });
  const template = Template.fromStack(stack);
  assert.deepEqual(kafkaStatements(template, roleOf(stack, hydrator)).ReadKafkaTopics.Resource, stack.resolve(topicsOf(imported)));
  const errors = new AwsSolutionsChecks()
    .validateScope(stack)
    .violations.filter((v) => v.severity === 'error' && v.violatingResources.some((r) => r.constructPath?.startsWith('Imported/Hydrator/')));
  assert.deepEqual(errors.map((e) => e.ruleName), []);
});

test("a client certificate's secret means mutual TLS, read alone and decrypted through Secrets Manager only", () => {
  const stack = new Stack(new App(), 'MutualTls', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'CertificateKey', { enableKeyRotation: true });
  const certificate = new secretsmanager.Secret(stack, 'ClientCertificate', { encryptionKey: key });
  const hydrator = new Hydrator(stack, 'Hydrator', {
    code: standInCode(),
    kafka: { bootstrapServers: SELF_MANAGED_BROKERS, clientCertificateSecret: certificate },
  });
  const template = Template.fromStack(stack);
  const secretId = stack.getLogicalId(certificate.node.defaultChild as never);
  assert.deepEqual(kafkaStatements(template, roleOf(stack, hydrator)), {
    ReadClientCertificateSecret: {
      Sid: 'ReadClientCertificateSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: { Ref: secretId },
    },
    DecryptClientCertificateSecret: {
      Sid: 'DecryptClientCertificateSecret',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    },
  });
  const functionId = stack.getLogicalId(hydrator.function.node.defaultChild as never);
  const variables = template.toJSON().Resources[functionId].Properties.Environment.Variables;
  assert.equal(variables.KAFKA_AUTH, 'mtls');
  assert.deepEqual(variables.KAFKA_CLIENT_CERTIFICATE_SECRET_ARN, { Ref: secretId });
  assert.equal(variables.KAFKA_SCRAM_SECRET_ARN, undefined);
});

test('settings that cannot work are refused with what to do', () => {
  const stack = new Stack(new App(), 'Refused');
  assert.throws(() => new Hydrator(stack, 'NoBrokers', { code: standInCode(), kafka: {} }), /clusterArns \(MSK\) or bootstrapServers/);
  assert.throws(
    () => new Hydrator(stack, 'NoSecret', { code: standInCode(), kafka: { bootstrapServers: ['k:9096'], auth: 'scram-sha-512' } }),
    /needs kafka.scramSecret/,
  );
  assert.throws(
    () => new Hydrator(stack, 'NoCertificate', { code: standInCode(), kafka: { bootstrapServers: ['k:9094'], auth: 'mtls' } }),
    /needs kafka.clientCertificateSecret/,
  );
  const withoutKafka = new Hydrator(stack, 'WithoutKafka', { code: standInCode() });
  assert.throws(() => withoutKafka.onKafkaFailure(), /needs the `kafka` prop/);
});

test('cdk-nag AwsSolutions finds no unacknowledged error in the construct with Kafka', () => {
  for (const cluster of ['msk', 'self-managed'] as const) {
    const { stack, hydrator } = kafkaConsumer(cluster);
    Template.fromStack(stack);
    const report = new AwsSolutionsChecks().validateScope(stack);
    const errors = report.violations.filter(
      (v) => v.severity === 'error' && v.violatingResources.some((r) => !!r.constructPath && r.constructPath.startsWith(`${hydrator.node.path}/`)),
    );
    assert.deepEqual(
      errors.map((e) => `${e.ruleName} at ${e.violatingResources.map((r) => `${r.constructPath} ${(r.locations ?? []).join(' ')}`).join(', ')}`),
      [],
      cluster,
    );
  }
});
