/**
 * The CDK app the tests synthesize: a KMS-encrypted Kinesis stream and a
 * DynamoDB table's stream feeding one consumer, whose mappings send their
 * on-failure records to the hydrator.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Hydrator, HydratorProps } from '../src';

let standInDirectory: string | undefined;

/**
 * A directory holding a stand-in `bootstrap`: synthesis only hashes and copies
 * the asset, so the tests need no Rust build. One directory a test process,
 * removed when it exits, so runs leave nothing in the temporary folder.
 */
export function standInCode(): lambda.Code {
  if (standInDirectory === undefined) {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'hydrator-cdk-'));
    fs.writeFileSync(path.join(directory, 'bootstrap'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    process.on('exit', () => fs.rmSync(directory, { recursive: true, force: true }));
    standInDirectory = directory;
  }
  return lambda.Code.fromAsset(standInDirectory);
}

export interface OrdersApp {
  readonly app: App;
  readonly stack: Stack;
  readonly hydrator: Hydrator;
  readonly stream: kinesis.Stream;
  readonly streamKey: kms.Key;
  readonly table: dynamodb.Table;
  readonly consumer: lambda.Function;
}

export function ordersApp(props: Partial<HydratorProps> = {}): OrdersApp {
  const app = new App();
  const stack = new Stack(app, 'Orders', { env: { account: '123456789012', region: 'eu-west-1' } });
  const streamKey = new kms.Key(stack, 'OrdersKey', { enableKeyRotation: true });
  const stream = new kinesis.Stream(stack, 'OrdersStream', {
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: streamKey,
    retentionPeriod: Duration.days(7),
  });
  const table = new dynamodb.Table(stack, 'OrdersTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  });
  const consumer = new lambda.Function(stack, 'OrdersConsumer', {
    runtime: lambda.Runtime.PYTHON_3_13,
    handler: 'index.handler',
    code: lambda.Code.fromInline('def handler(event, context):\n    raise RuntimeError("rejected")\n'),
  });

  const hydrator = new Hydrator(stack, 'Hydrator', { code: standInCode(), ...props });
  consumer.addEventSource(
    new KinesisEventSource(stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      retryAttempts: 2,
      bisectBatchOnError: true,
      onFailure: hydrator.onFailure(stream),
    }),
  );
  consumer.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      retryAttempts: 2,
      bisectBatchOnError: true,
      onFailure: hydrator.onFailure(table),
    }),
  );
  return { app, stack, hydrator, stream, streamKey, table, consumer };
}
