/**
 * The `Hydrator` construct: what `infra/template.yaml` deploys (key, topic and
 * its policy, on-failure queue and its SQS trigger, DLQ, own-failure queue,
 * offload bucket, idempotency table, log group, function, alarms, dashboard,
 * and what it needs to read Kafka clusters), and `onFailure(source)` and
 * `onKafkaFailure()`, which wire a consumer's event source mapping to it.
 */
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SnsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cargoLambdaOutput } from './code';
import { HydratorKafkaProps, kafkaSettings } from './kafka';
import { acknowledge } from './nag';
import { HydratorObservability, MetricsDimensions } from './observability';

export interface HydratorProps {
  /** The function's code; by default the cargo-lambda build output (`target/lambda/hydrate`). */
  readonly code?: lambda.Code;
  /** Default ARM_64, as the template. */
  readonly architecture?: lambda.Architecture;
  /** Default 128; the function is built to run at 128 MB. */
  readonly memorySize?: number;
  /** Default 2 minutes; the on-failure queue hides a message six times as long. */
  readonly timeout?: Duration;
  /** An existing queue for the documents instead of one created here. */
  readonly dlq?: sqs.IQueue;
  /** Create the DLQ as a FIFO queue (one message group a shard). Default false. */
  readonly fifoDlq?: boolean;
  /** Keep bodies too large for the DLQ in a bucket (default true); false names them too_large. */
  readonly offloadLargeRecords?: boolean;
  /** A Firehose delivery stream (of this account and region) that also receives every document. */
  readonly archiveDeliveryStreamName?: string;
  /** Record each failure delivered, so a failure delivered again is not sent twice. Default true. */
  readonly idempotencyTable?: boolean;
  /** The consumer's execution role, written as invokeIdentityArn in Kinesis records. */
  readonly invokeIdentityArn?: string;
  /** Default 1 month. */
  readonly logRetention?: logs.RetentionDays;
  /** The alarms notify this topic when given. */
  readonly alarmTopic?: sns.ITopic;
  /** Default `Hydrator`. */
  readonly metricsNamespace?: string;
  /** Default `none`. */
  readonly metricsDimensions?: MetricsDimensions;
  /** Alarm when a failure was read this close to its stream's retention. Default 6 hours. */
  readonly retentionMarginAlarm?: Duration;
  /** Default 100. */
  readonly queueBatchSize?: number;
  /** Default 5 seconds. */
  readonly queueBatchingWindow?: Duration;
  /** Default 2 (SQS's least). */
  readonly queueMaximumConcurrency?: number;
  /** Concurrent executions reserved, and their cap; none by default. */
  readonly reservedConcurrency?: number;
  /** GetRecords calls a second a shard in one process, at most. Default 2. */
  readonly readsPerShardPerSecond?: number;
  /**
   * An S3 bucket, by name, that event source mappings use as their on-failure
   * destination: S3 (that bucket, this account) may invoke the hydrator, which
   * may read its objects under `aws/lambda/`.
   */
  readonly failureBucketName?: string;
  /**
   * Create `failureBucketName` here, private and encrypted, its new objects
   * under `aws/lambda/` notifying the hydrator. Default false: an existing
   * bucket, whose notification docs/deployment.md shows.
   */
  readonly createFailureBucket?: boolean;
  /** The bucket's SSE-KMS key: decrypted through S3 only. The hydrator's key for a bucket created here by default. */
  readonly failureBucketKey?: kms.IKey;
  /**
   * Kafka clusters whose consumers send failures here: the brokers the
   * hydrator may connect to, how it authenticates, the VPC that reaches them.
   */
  readonly kafka?: HydratorKafkaProps;
}

/** Event source mappings send their on-failure records here, with the consumer's role. */
const ON_FAILURE_PREFIX = 'aws/lambda/';

export class Hydrator extends Construct {
  /** The on-failure topic: the OnFailure destination of the consumers' mappings. */
  public readonly topic: sns.Topic;
  /** Where the hydrated documents arrive. */
  public readonly dlq: sqs.IQueue;
  /** The hydrator itself. */
  public readonly function: lambda.Function;
  /** Encrypts the topic, the queues and the offload bucket. */
  public readonly key: kms.Key;
  /** Where on-failure records wait for the hydrator (the topic delivers here). */
  public readonly onFailureQueue: sqs.Queue;
  /** Raw on-failure records the hydrator itself could not handle, kept 14 days. */
  public readonly hydratorFailures: sqs.Queue;
  /** Message bodies too large for the DLQ, when offloading is on. */
  public readonly offloadBucket?: s3.Bucket;
  /** The function's execution role: exactly the statements below, no managed policy. */
  public readonly role: iam.Role;
  /** The S3 on-failure destination, when created here. */
  public readonly failureBucket?: s3.Bucket;
  /** Alarms, dashboard and metric helpers. */
  public readonly observability: HydratorObservability;

  private readonly readable = new Set<string>();
  private readonly readsKafka: boolean;

  constructor(scope: Construct, id: string, props: HydratorProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const timeout = props.timeout ?? Duration.minutes(2);

    this.key = new kms.Key(this, 'Key', {
      description: 'hydrator - encrypts the on-failure topic, the queues and offloaded bodies',
      enableKeyRotation: true,
    });
    // SNS delivers to the queues this key encrypts; the account, not the
    // topic's ARN, because the topic refers to the key (a cycle otherwise).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SnsDeliversToEncryptedQueues',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.topic = new sns.Topic(this, 'OnFailureTopic', { masterKey: this.key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ThisAccountPublishes',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:PrincipalAccount': stack.account } },
      }),
    );

    this.hydratorFailures = new sqs.Queue(this, 'HydratorFailures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
    });
    // A queue of last resort: what lands here is read by an operator.
    acknowledge(this.hydratorFailures, 'AwsSolutions-SQS3', 'the last-resort queue of the raw records the hydrator could not handle');

    this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', {
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      deadLetterQueue: { queue: this.hydratorFailures, maxReceiveCount: 5 },
    });
    // Subscribed by hand: the SqsSubscription helper adds a key policy naming
    // the topic, which the key-encrypted topic cannot refer back to.
    new sns.Subscription(this, 'OnFailureSubscription', {
      topic: this.topic,
      protocol: sns.SubscriptionProtocol.SQS,
      endpoint: this.onFailureQueue.queueArn,
      rawMessageDelivery: true,
      deadLetterQueue: this.hydratorFailures,
    });
    this.onFailureQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TopicDelivers',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.onFailureQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.topic.topicArn } },
      }),
    );

    if (props.dlq) {
      this.dlq = props.dlq;
    } else {
      const dlq = new sqs.Queue(this, 'Dlq', {
        fifo: props.fifoDlq ? true : undefined,
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
      });
      acknowledge(dlq, 'AwsSolutions-SQS3', 'the dead-letter queue of hydrated documents itself, read by operators');
      this.dlq = dlq;
    }

    if (props.offloadLargeRecords ?? true) {
      this.offloadBucket = new s3.Bucket(this, 'OffloadBucket', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        // A day longer than the DLQ keeps the messages that point here.
        lifecycleRules: [{ id: 'OutliveTheDlqsMessages', expiration: Duration.days(15) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        this.offloadBucket,
        'AwsSolutions-S1',
        'objects are written by the hydrator alone and expire in 15 days; CloudTrail data events audit reads where required',
      );
    }

    let idempotency: dynamodb.Table | undefined;
    if (props.idempotencyTable ?? true) {
      // Items hold an id (a hash), a state and an expiry, never record data.
      idempotency = new dynamodb.Table(this, 'Idempotency', {
        partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'expires',
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
      });
      acknowledge(
        idempotency,
        'AwsSolutions-DDB3',
        'transient delivery marks that expire by TTL; a restored table would only repeat deliveries',
      );
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    // An explicit role with exactly these statements: no managed policy, and
    // no grant helper widening a statement beyond what the function calls.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    const viaService = (service: string) => ({ StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` } });

    grant('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
    grant('SendDocuments', ['sqs:SendMessage'], [this.dlq.queueArn]);
    grant('TakeOnFailureRecords', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [this.onFailureQueue.queueArn]);
    grant('KeepOwnFailures', ['sqs:SendMessage'], [this.hydratorFailures.queueArn]);
    grant('UseQueueKey', ['kms:GenerateDataKey', 'kms:Decrypt'], [this.key.keyArn], viaService('sqs'));
    if (this.offloadBucket) {
      grant('OffloadLargeBodies', ['s3:PutObject'], [this.offloadBucket.arnForObjects('hydrator/*')]);
      grant('UseOffloadKey', ['kms:GenerateDataKey'], [this.key.keyArn], viaService('s3'));
      acknowledge(
        this.role,
        'AwsSolutions-IAM5',
        'offloaded bodies are written under the hydrator/ prefix of its own bucket, one object a part named by the failure',
        [`Resource::<${stack.getLogicalId(this.offloadBucket.node.defaultChild as s3.CfnBucket)}.Arn>/hydrator/*`],
      );
    }
    if (props.archiveDeliveryStreamName) {
      grant('ArchiveDocuments', ['firehose:PutRecordBatch'], [
        stack.formatArn({ service: 'firehose', resource: 'deliverystream', resourceName: props.archiveDeliveryStreamName }),
      ]);
    }
    if (idempotency) {
      grant('RecordDeliveredFailures', ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'], [idempotency.tableArn]);
    }

    this.readsKafka = props.kafka !== undefined;
    const kafka = props.kafka ? kafkaSettings(stack, props.kafka) : undefined;
    for (const statement of kafka?.statements ?? []) this.role.addToPrincipalPolicy(statement);
    for (const { finding, reason } of kafka?.wildcards ?? []) acknowledge(this.role, 'AwsSolutions-IAM5', reason, [finding]);

    const observabilityNamespace = props.metricsNamespace ?? 'Hydrator';
    const environment: Record<string, string> = {
      DLQ_QUEUE_URL: this.dlq.queueUrl,
      METRICS_NAMESPACE: observabilityNamespace,
      METRICS_DIMENSIONS: props.metricsDimensions ?? 'none',
      READS_PER_SHARD_PER_SECOND: String(props.readsPerShardPerSecond ?? 2),
    };
    if (props.archiveDeliveryStreamName) environment.ARCHIVE_FIREHOSE_STREAM = props.archiveDeliveryStreamName;
    if (props.invokeIdentityArn) environment.INVOKE_IDENTITY_ARN = props.invokeIdentityArn;
    if (this.offloadBucket) {
      environment.OFFLOAD_BUCKET = this.offloadBucket.bucketName;
      environment.OFFLOAD_PREFIX = 'hydrator/';
      environment.OFFLOAD_KMS_KEY_ID = this.key.keyArn;
    }
    if (idempotency) environment.IDEMPOTENCY_TABLE = idempotency.tableName;
    Object.assign(environment, kafka?.environment);

    this.function = new lambda.Function(this, 'Function', {
      code: props.code ?? cargoLambdaOutput(),
      handler: 'bootstrap',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 128,
      timeout,
      role: this.role,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // In the VPC only to reach Kafka brokers; the explicit role means no
      // managed VPC policy, the statements above instead.
      vpc: props.kafka?.vpc,
      vpcSubnets: props.kafka?.vpc ? props.kafka.vpcSubnets : undefined,
      securityGroups: props.kafka?.vpc ? props.kafka.securityGroups : undefined,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment,
      // The environment names the queues and buckets; encrypted with the key.
      environmentEncryption: this.key,
    });

    // Only the messages the function names fail; the rest are deleted.
    this.function.addEventSourceMapping('OnFailureRecords', {
      eventSourceArn: this.onFailureQueue.queueArn,
      batchSize: props.queueBatchSize ?? 100,
      maxBatchingWindow: props.queueBatchingWindow ?? Duration.seconds(5),
      reportBatchItemFailures: true,
      maxConcurrency: props.queueMaximumConcurrency ?? 2,
    });

    // Asynchronous invocations (S3 notifications): twice retried, then the
    // raw event is kept with the hydrator's other failures.
    const failuresArn = this.hydratorFailures.queueArn;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: failuresArn }) },
    });

    if (props.failureBucketName) {
      if (Token.isUnresolved(props.failureBucketName)) {
        throw new Error('hydrator: failureBucketName must be a plain name, not a reference (the notification would close a cycle)');
      }
      this.failureBucket = this.readFailureBucket(
        props.failureBucketName,
        props.createFailureBucket ?? false,
        props.failureBucketKey,
        grant,
        viaService,
      );
    }

    this.observability = new HydratorObservability(this, 'Observability', {
      function: this.function,
      dlq: this.dlq,
      hydratorFailures: this.hydratorFailures,
      namespace: observabilityNamespace,
      retentionMarginAlarm: props.retentionMarginAlarm ?? Duration.hours(6),
      alarmTopic: props.alarmTopic,
    });
  }

  /**
   * The OnFailure destination for a consumer's mapping of `source` (a Kinesis
   * stream, or a DynamoDB table with a stream): an `SnsDlq` on the topic, which
   * grants the consumer `sns:Publish` on the topic and the key's use when the
   * mapping binds it. The hydrator may then read that stream alone (and
   * decrypt a KMS-encrypted Kinesis stream's records, through Kinesis only).
   */
  public onFailure(source: kinesis.IStream | dynamodb.ITable): lambda.IEventSourceDlq {
    if (isTable(source)) {
      const streamArn = source.tableStreamArn;
      if (!streamArn) {
        throw new Error(`hydrator: table ${source.node.path} has no stream; set its \`stream\` (StreamViewType)`);
      }
      this.grantRead(source.node.path, 'ReadTableStream', ['dynamodb:GetShardIterator', 'dynamodb:GetRecords'], streamArn);
    } else {
      // DescribeStreamSummary: the stream's retention, for the RetentionMargin metric.
      this.grantRead(
        source.node.path,
        'ReadStream',
        ['kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:DescribeStreamSummary'],
        source.streamArn,
      );
      if (source.encryptionKey) {
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [source.encryptionKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com` } },
          }),
        );
      }
    }
    return new SnsDlq(this.topic);
  }

  /**
   * The OnFailure destination for a consumer's `ManagedKafkaEventSource` or
   * `SelfManagedKafkaEventSource`: an `SnsDlq` on the topic, which grants the
   * consumer `sns:Publish` on it and the key's use when the mapping binds it.
   * The clusters the hydrator may read are the `kafka` prop's.
   */
  public onKafkaFailure(): lambda.IEventSourceDlq {
    if (!this.readsKafka) {
      throw new Error('hydrator: onKafkaFailure needs the `kafka` prop (the clusters or brokers the hydrator may read)');
    }
    return new SnsDlq(this.topic);
  }

  /** Documents by status (`DocumentsComplete`, `DocumentsPartial`, `DocumentsUnavailable`), summed. */
  public metricDocuments(status: 'Complete' | 'Partial' | 'Unavailable', props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.observability.metric(`Documents${status}`, props);
  }

  /** Records a document was delivered without, summed. */
  public metricRecordsMissing(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.observability.metric('RecordsMissing', props);
  }

  /** Seconds of the stream's retention left when a failure was read, least. */
  public metricRetentionMargin(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.observability.metric('RetentionMargin', { statistic: 'Minimum', ...props });
  }

  /** Documents waiting in the DLQ. */
  public metricDlqDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  private grantRead(path: string, sid: string, actions: string[], resource: string): void {
    // One statement a source, even when onFailure is called once a mapping.
    if (this.readable.has(path)) return;
    this.readable.add(path);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: `${sid}${this.readable.size}`, actions, resources: [resource] }));
  }

  private readFailureBucket(
    bucketName: string,
    create: boolean,
    key: kms.IKey | undefined,
    grant: (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) => void,
    viaService: (service: string) => Record<string, unknown>,
  ): s3.Bucket | undefined {
    const stack = Stack.of(this);
    // By name, as the template has it: the bucket's notification names the
    // function, so anything of the function's that named the bucket resource
    // would close a cycle.
    const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName });
    // S3 checks this permission when the notification is saved, and a bucket
    // name freed and taken by another account cannot use it.
    const permission = new lambda.CfnPermission(this, 'FailureBucketInvokes', {
      functionName: this.function.functionArn,
      action: 'lambda:InvokeFunction',
      principal: 's3.amazonaws.com',
      sourceAccount: stack.account,
      sourceArn: bucketArn,
    });
    grant('ReadFailureObjects', ['s3:GetObject'], [`${bucketArn}/${ON_FAILURE_PREFIX}*`]);
    acknowledge(
      this.role,
      'AwsSolutions-IAM5',
      'event source mappings name each failure object under aws/lambda/<mapping UUID>/ as they write it',
      [`Resource::arn:<AWS::Partition>:s3:::${bucketName}/${ON_FAILURE_PREFIX}*`],
    );
    const objectKey = key ?? (create ? this.key : undefined);
    if (objectKey) grant('DecryptFailureObjects', ['kms:Decrypt'], [objectKey.keyArn], viaService('s3'));
    if (!create) return undefined;

    const bucket = new s3.Bucket(this, 'FailureBucket', {
      bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: objectKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Outlives the raw notification HydratorFailures keeps for 14 days.
      lifecycleRules: [{ id: 'OutliveTheHydratorsFailures', expiration: Duration.days(15) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      bucket,
      'AwsSolutions-S1',
      'objects are written by event source mappings and read by the hydrator alone; CloudTrail data events audit access where required',
    );
    const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
    // The notification in the bucket's own properties, not through CDK's
    // notifications custom resource (a function and a wildcard role more).
    cfnBucket.addPropertyOverride('NotificationConfiguration.LambdaConfigurations', [
      {
        Event: 's3:ObjectCreated:*',
        Function: this.function.functionArn,
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: ON_FAILURE_PREFIX }] } },
      },
    ]);
    cfnBucket.addDependency(permission);
    return bucket;
  }
}

function isTable(source: kinesis.IStream | dynamodb.ITable): source is dynamodb.ITable {
  return 'tableName' in source;
}
