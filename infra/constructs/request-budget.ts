import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BUDGET_KEY, BUDGET_TTL_ATTRIBUTE } from '../../lambdas/shared/request-budget.js';
import type { VaultFunction } from './vault-function.js';

export interface RequestBudgetProps {
  /** zendeskRequestsPerMinute: the account's limit; unset = the limit Zendesk reports. */
  requestsPerMinute: number | undefined;
  /** backfillShare: the most of the budget the backfill may use. */
  backfillShare: number;
}

/**
 * The one Zendesk request budget (lambdas/shared/request-budget.ts): a table of 10-second window counters (`all` and
 * `backfill`) that every function calling Zendesk takes from with one conditional UpdateItem (nothing else), expired
 * by TTL an hour after their window, and the cumulative counts `backfill status` reads.
 */
export class RequestBudgetStore extends Construct {
  readonly table: Table;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RequestBudgetProps,
  ) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: BUDGET_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: BUDGET_TTL_ATTRIBUTE,
      // Two counters, rebuilt from nothing in a minute: nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** A function that calls Zendesk takes from the budget. */
  grantTake(step: VaultFunction): void {
    step.fn.addEnvironment('ZENDESK_BUDGET_TABLE', this.table.tableName);
    step.fn.addEnvironment('BACKFILL_SHARE', String(this.props.backfillShare));
    if (this.props.requestsPerMinute !== undefined) step.fn.addEnvironment('ZENDESK_REQUESTS_PER_MINUTE', String(this.props.requestsPerMinute));
    step.role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ZendeskRequestBudget', actions: ['dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
  }
}
