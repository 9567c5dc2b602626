/**
 * hydrator for the AWS CDK: `new Hydrator(this, 'Hydrator')`, then
 * `onFailure: hydrator.onFailure(streamOrTable)` in a consumer's Kinesis or
 * DynamoDB event source.
 */
export { Hydrator, HydratorProps } from './hydrator';
export { HydratorObservability, MetricsDimensions } from './observability';
export { cargoLambdaOutput, DEFAULT_CODE_DIRECTORY } from './code';
