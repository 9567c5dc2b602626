/**
 * The hydrator's alarms and dashboard, as `infra/template.yaml` has them: the
 * DLQ's depth, the function's errors and its own failures, records missing,
 * documents not complete, and the retention margin, read from the metrics the
 * function writes (embedded metric format, FunctionName dimension).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The finer dimension set the function may add to FunctionName. */
export type MetricsDimensions = 'none' | 'source' | 'stream' | 'source,stream';

export interface HydratorObservabilityProps {
  readonly function: lambda.IFunction;
  readonly dlq: sqs.IQueue;
  readonly hydratorFailures: sqs.IQueue;
  readonly namespace: string;
  readonly retentionMarginAlarm: Duration;
  readonly alarmTopic?: sns.ITopic;
}

/** Why a record is missing from a document (`RecordsMissing_<reason>`). */
const MISSING_REASONS = [
  'trimmed',
  'not_found',
  'shard_ended',
  'beyond_tip',
  'read_limit',
  'count_mismatch',
  'too_large',
  'over_budget',
  'deadline',
  'stream_not_found',
];

export class HydratorObservability extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly props: HydratorObservabilityProps;

  constructor(scope: Construct, id: string, props: HydratorObservabilityProps) {
    super(scope, id);
    this.props = props;
    const fiveMinutes = Duration.minutes(5);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold = 0, below = false) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: below
          ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
          : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(created);
      return created;
    };

    alarm(
      'DlqDepth',
      'Hydrated failure documents are waiting in the DLQ.',
      props.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: fiveMinutes }),
    );
    alarm(
      'HydratorErrors',
      'The hydrator failed an invocation; the raw record goes to HydratorFailures after retries.',
      props.function.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
    );
    alarm(
      'HydratorFailuresWaiting',
      'Raw on-failure records the hydrator could not handle are waiting in HydratorFailures.',
      props.hydratorFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: fiveMinutes }),
    );
    alarm(
      'RecordsMissing',
      "A failed batch was delivered without some of its records (RecordsMissing_<reason> says why); start from the hydrator's dashboard.",
      this.metric('RecordsMissing'),
    );
    const notComplete = new cloudwatch.MathExpression({
      expression: 'FILL(partial, 0) + FILL(unavailable, 0)',
      label: 'Documents not complete',
      usingMetrics: { partial: this.metric('DocumentsPartial'), unavailable: this.metric('DocumentsUnavailable') },
      period: fiveMinutes,
    });
    alarm('PartialDocuments', 'A document was delivered partial (or unavailable); its hydration.missing names the gaps.', notComplete);
    const marginHours = new cloudwatch.MathExpression({
      expression: 'margin / 3600',
      label: 'Hours of retention left',
      usingMetrics: { margin: this.metric('RetentionMargin', { statistic: 'Minimum' }) },
      period: fiveMinutes,
    });
    alarm(
      'RetentionMargin',
      "A failure was read with little of its stream's retention left; the next one may be trimmed before it is read.",
      marginHours,
      props.retentionMarginAlarm.toHours(),
      true,
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    const graph = (title: string, left: cloudwatch.IMetric[], stacked = false) =>
      new cloudwatch.GraphWidget({ title, left, stacked, width: 8, height: 6 });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 2 }));
    this.dashboard.addWidgets(
      graph('Documents by status', ['Complete', 'Partial', 'Unavailable'].map((s) => this.metric(`Documents${s}`, { label: s.toLowerCase() })), true),
      graph('Records missing by reason', MISSING_REASONS.map((r) => this.metric(`RecordsMissing_${r}`, { label: r })), true),
      graph('Retention margin (hours left)', [marginHours]),
    );
    this.dashboard.addWidgets(
      graph('DLQ depth', [props.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'documents waiting' })]),
      graph("The hydrator's errors", [props.function.metricErrors(), props.function.metricThrottles()]),
      graph('Throttles and retries', ['ThrottledCalls', 'DeliveryRetries', 'ReadCalls'].map((m) => this.metric(m))),
    );
  }

  /** One of the function's own metrics, FunctionName dimension, summed over 5 minutes by default. */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.namespace,
      metricName,
      dimensionsMap: { FunctionName: this.props.function.functionName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }
}
