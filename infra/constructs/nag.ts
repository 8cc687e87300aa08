/** cdk-nag v3 acknowledgements (CDK's Validations API): every one names its rule and its reason. */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One acknowledged finding: a rule id (optionally `Rule[Finding]`) and why it does not apply. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges `findings` on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, findings: readonly Acknowledgement[]): void {
  for (const finding of findings) Validations.of(scope).acknowledge(finding);
}
