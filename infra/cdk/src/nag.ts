/**
 * Acknowledged security findings (cdk-nag's AwsSolutions rules), each with
 * its reason, recorded through CDK's own `Validations` so that the construct
 * needs no cdk-nag at run time.
 */
import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges `rule` on `construct` for `reason`; with `findings`, only those
 * findings of the rule (cdk-nag's `Resource::...` forms), not the rule at large.
 */
export function acknowledge(construct: IConstruct, rule: string, reason: string, findings?: string[]): void {
  const ids = findings ? findings.map((finding) => `${rule}[${finding}]`) : [rule];
  for (const id of ids) Validations.of(construct).acknowledge({ id, reason });
}
