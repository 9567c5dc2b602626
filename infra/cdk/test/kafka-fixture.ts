/**
 * A Kafka consumer wired to the hydrator, in a VPC that reaches the brokers:
 * of an Amazon MSK cluster read with IAM, or of a self-managed cluster read
 * with SCRAM (its secret encrypted with a key of its own). Its mapping sends
 * its failures to the hydrator's topic.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ManagedKafkaEventSource, SelfManagedKafkaEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Hydrator, HydratorKafkaProps } from '../src';
import { standInCode } from './fixture';

export const ORDERS_CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/orders-prod/8f2b6c1e-3a4d-4e5f-9a8b-7c6d5e4f3a2b-3';
export const MSK_BROKERS = ['b-1.orders-prod.a1bcde.c3.kafka.eu-west-1.amazonaws.com:9098', 'b-2.orders-prod.a1bcde.c3.kafka.eu-west-1.amazonaws.com:9098'];
export const SELF_MANAGED_BROKERS = ['kafka-1.payments.internal:9096', 'kafka-2.payments.internal:9096'];

export interface KafkaConsumer {
  readonly stack: Stack;
  readonly hydrator: Hydrator;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly secret: secretsmanager.Secret;
  readonly secretKey: kms.Key;
  readonly consumer: lambda.Function;
}

export type KafkaCluster = 'msk' | 'self-managed';

export function kafkaConsumer(cluster: KafkaCluster, app: App = new App(), kafka: Partial<HydratorKafkaProps> = {}): KafkaConsumer {
  const stack = new Stack(app, cluster === 'msk' ? 'OrdersKafka' : 'PaymentsKafka', { env: { account: '123456789012', region: 'eu-west-1' } });
  // An existing VPC by its attributes: no lookup, synthesis stays offline.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f6a7b8',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d', 'rtb-4e5f6a7b'],
  });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'ReachesBrokers', 'sg-0123456789abcdef0');
  const secretKey = new kms.Key(stack, 'ScramKey', { enableKeyRotation: true });
  const secret = new secretsmanager.Secret(stack, 'AmazonMSK_payments', { encryptionKey: secretKey });

  const hydrator = new Hydrator(stack, 'Hydrator', {
    code: standInCode(),
    kafka: {
      ...(cluster === 'msk'
        ? { clusterArns: [ORDERS_CLUSTER], bootstrapServers: MSK_BROKERS }
        : { bootstrapServers: SELF_MANAGED_BROKERS, scramSecret: secret }),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      ...kafka,
    },
  });
  const consumer = new lambda.Function(stack, 'Consumer', {
    runtime: lambda.Runtime.PYTHON_3_13,
    handler: 'index.handler',
    code: lambda.Code.fromInline('def handler(event, context):\n    raise RuntimeError("rejected")\n'),
  });
  const source =
    cluster === 'msk'
      ? new ManagedKafkaEventSource({
      clusterArn: ORDERS_CLUSTER,
          topic: 'order-events-v2',
          startingPosition: lambda.StartingPosition.TRIM_HORIZON,
          retryAttempts: 2,
          bisectBatchOnError: true,
          onFailure: hydrator.onKafkaFailure(),
        })
      : new SelfManagedKafkaEventSource({
      bootstrapServers: SELF_MANAGED_BROKERS,
      topic: 'payments',
      secret,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      retryAttempts: 2,
      bisectBatchOnError: true,
          onFailure: hydrator.onKafkaFailure(),
        });
  consumer.addEventSource(source);
  return { stack, hydrator, vpc, securityGroup, secret, secretKey, consumer };
}
