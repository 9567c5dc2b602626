/**
 * hydrator for the AWS CDK: `new Hydrator(this, 'Hydrator')`, then
 * `onFailure: hydrator.onFailure(streamOrTable)` in a consumer's Kinesis or
 * DynamoDB event source, or `onFailure: hydrator.onKafkaFailure()` in its
 * MSK or self-managed Kafka event source (with the `kafka` prop).
 */
export { Hydrator, HydratorProps } from './hydrator';
export { HydratorKafkaProps, KafkaAuth, topicsOf } from './kafka';
export { HydratorObservability, MetricsDimensions } from './observability';
export { cargoLambdaOutput, DEFAULT_CODE_DIRECTORY } from './code';
