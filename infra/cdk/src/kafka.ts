/**
 * What the hydrator needs to read Kafka failures: the brokers it may connect
 * to, how it authenticates, the network that reaches them, and the grants on
 * those clusters, topics and secret alone.
 */
import { Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** How the hydrator authenticates to the brokers (`KAFKA_AUTH`). */
export type KafkaAuth = 'none' | 'iam' | 'scram-sha-512' | 'tls' | 'mtls';

export interface HydratorKafkaProps {
  /** Amazon MSK clusters (their ARNs); with IAM, the hydrator may connect to them and read their topics. */
  readonly clusterArns?: string[];
  /** The brokers (`host:port`) the hydrator may connect to, MSK's or a self-managed cluster's. */
  readonly bootstrapServers?: string[];
  /**
   * Default: `scram-sha-512` with a SCRAM secret, else `mtls` with a client
   * certificate's secret, else `iam` with MSK clusters, else `none`.
   */
  readonly auth?: KafkaAuth;
  /** The SCRAM user's secret: read alone, decrypted with its key through Secrets Manager only. */
  readonly scramSecret?: secretsmanager.ISecret;
  /**
   * The client certificate's secret for mutual TLS (`certificate`: PEM chain,
   * `privateKey`: unencrypted PEM key): read alone, decrypted with its key
   * through Secrets Manager only.
   */
  readonly clientCertificateSecret?: secretsmanager.ISecret;
  /** The VPC that reaches the brokers; the function then runs in it. */
  readonly vpc?: ec2.IVpc;
  /** The subnets of `vpc` the function runs in. Default: the VPC's private subnets. */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The function's security groups, allowed to reach the brokers. Default: one created for it. */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** The Kafka settings resolved: the function's variables and its role's statements. */
export interface KafkaSettings {
  readonly environment: Record<string, string>;
  readonly statements: iam.PolicyStatement[];
  /** Resources the statements name with a wildcard, each with why (cdk-nag's `Resource::` forms). */
  readonly wildcards: { finding: string; reason: string }[];
}

const CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9-]+\/[A-Za-z0-9-]+$/;

/**
 * `arn:...:cluster/<name>/<uuid>` becomes `arn:...:topic/<name>/<uuid>/*`:
 * every topic of that cluster, and of no other. A reference is rewritten by
 * CloudFormation: what precedes `:cluster/`, `:topic/`, what follows it.
 */
export function topicsOf(clusterArn: string): string {
  if (Token.isUnresolved(clusterArn)) {
    const halves = Fn.split(':cluster/', clusterArn, 2);
    return Fn.join('', [halves[0], ':topic/', halves[1], '/*']);
  }
  if (!CLUSTER_ARN.test(clusterArn)) {
    throw new Error(`hydrator: kafka.clusterArns holds ${JSON.stringify(clusterArn)}, not an MSK cluster ARN (arn:...:kafka:<region>:<account>:cluster/<name>/<uuid>)`);
  }
  return `${clusterArn.replace(':cluster/', ':topic/')}/*`;
}

export function kafkaSettings(stack: Stack, props: HydratorKafkaProps): KafkaSettings {
  const clusterArns = props.clusterArns ?? [];
  const bootstrapServers = props.bootstrapServers ?? [];
  if (clusterArns.length === 0 && bootstrapServers.length === 0) {
    throw new Error('hydrator: kafka needs clusterArns (MSK) or bootstrapServers (the brokers it may connect to)');
  }
  const auth: KafkaAuth =
    props.auth ??
    (props.scramSecret ? 'scram-sha-512' : props.clientCertificateSecret ? 'mtls' : clusterArns.length > 0 ? 'iam' : 'none');
  if (auth === 'scram-sha-512' && !props.scramSecret) {
    throw new Error("hydrator: kafka.auth 'scram-sha-512' needs kafka.scramSecret");
  }
  if (auth === 'mtls' && !props.clientCertificateSecret) {
    throw new Error("hydrator: kafka.auth 'mtls' needs kafka.clientCertificateSecret");
  }
  if ((props.vpcSubnets || props.securityGroups) && !props.vpc) {
    throw new Error('hydrator: kafka.vpcSubnets and kafka.securityGroups need kafka.vpc');
  }

  const environment: Record<string, string> = { KAFKA_AUTH: auth };
  if (bootstrapServers.length > 0) environment.KAFKA_BOOTSTRAP_ALLOWLIST = bootstrapServers.join(',');
  if (clusterArns.length > 0) environment.KAFKA_CLUSTER_ARNS = Fn.join(',', clusterArns);
  if (props.scramSecret) environment.KAFKA_SCRAM_SECRET_ARN = props.scramSecret.secretArn;
  if (props.clientCertificateSecret) environment.KAFKA_CLIENT_CERTIFICATE_SECRET_ARN = props.clientCertificateSecret.secretArn;

  const statements: iam.PolicyStatement[] = [];
  const wildcards: { finding: string; reason: string }[] = [];
  if (clusterArns.length > 0 && auth === 'iam') {
    statements.push(new iam.PolicyStatement({ sid: 'ConnectToKafkaClusters', actions: ['kafka-cluster:Connect'], resources: clusterArns }));
    // No group: the hydrator fetches by offset and joins no consumer group.
    const topics = clusterArns.map(topicsOf);
    statements.push(
      new iam.PolicyStatement({ sid: 'ReadKafkaTopics', actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: topics }),
    );
    for (const topic of topics) {
      wildcards.push({
        finding: `Resource::${nagForm(stack, topic)}`,
        reason: 'the topics of a cluster given: failures name their topics only when they arrive, and no other cluster is covered',
      });
    }
  }
  const secrets: [string, secretsmanager.ISecret | undefined][] = [
    ['ScramSecret', props.scramSecret],
    ['ClientCertificateSecret', props.clientCertificateSecret],
  ];
  for (const [name, secret] of secrets) {
    if (!secret) continue;
    statements.push(new iam.PolicyStatement({ sid: `Read${name}`, actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
    const key = secret.encryptionKey;
    if (key) {
      statements.push(
        new iam.PolicyStatement({
          sid: `Decrypt${name}`,
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
        }),
      );
    }
  }
  if (props.vpc) {
    // Lambda creates and removes the function's network interfaces with its
    // role, in this account and Region.
    const ec2Arn = (resource: string) => stack.formatArn({ service: 'ec2', resource, resourceName: '*' });
    statements.push(
      new iam.PolicyStatement({
        sid: 'ManageVpcNetworkInterfaces',
        actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: ['network-interface', 'subnet', 'security-group'].map(ec2Arn),
      }),
      // EC2's Describe calls name no resource: IAM accepts only "*" for them.
      new iam.PolicyStatement({
        sid: 'DescribeVpcNetworkInterfaces',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
    );
    for (const resource of ['network-interface', 'subnet', 'security-group']) {
      wildcards.push({
        finding: `Resource::${nagForm(stack, ec2Arn(resource))}`,
        reason: 'Lambda names the network interfaces it creates for the function in the VPC, in this account and Region',
      });
    }
    wildcards.push({ finding: 'Resource::*', reason: 'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets take no resource; IAM accepts only *' });
  }
  return { environment, statements, wildcards };
}

/**
 * How cdk-nag writes a resource in its findings (its `flattenCfnReference`):
 * `Fn::Join` joined, references as `<Id>` and `<Id.Attr>`, `${X}` as `<X>`,
 * an imported value as its name, any other function as its JSON.
 */
function nagForm(stack: Stack, resource: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const object = node as Record<string, unknown>;
    if (object['Fn::Join']) {
      const [separator, items] = object['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(separator);
    }
    if (object['Fn::Sub']) return visit(object['Fn::Sub']);
    if (object['Fn::GetAtt']) {
      const [id, attribute] = object['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(id)}.${visit(attribute)}>`;
    }
    if (object['Fn::ImportValue']) return visit(object['Fn::ImportValue']);
    if (object.Ref) return `<${visit(object.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(stack.resolve(resource));
}
