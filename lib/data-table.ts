import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INDEX_LIST, TABLE_KEYS, TTL_ATTRIBUTE } from '../lambdas/store/table-definition';

/** The item-level DynamoDB actions a function may be granted on the table. */
export type TableItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:BatchGetItem';

export interface DataTableProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The service's single table, built from `lambdas/store/table-definition.ts` (the same
 * description the tests and the local runtime create their tables from).
 */
export class DataTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key: encrypted at rest with KMS and audited in CloudTrail, without a
      // key policy to maintain or a per-key monthly charge.
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Old and new images let the status-metrics consumer see a status *change*.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    for (const index of INDEX_LIST) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
  }

  /**
   * Grants exactly `actions` on the table; `dynamodb:Query` also on each index, named one by
   * one (no `index/*` wildcard). Transactions need no action of their own: DynamoDB checks
   * each item's Put/Update/Delete/ConditionCheck.
   */
  grantItems(grantee: IGrantable, actions: readonly TableItemAction[]): void {
    const itemActions = actions.filter((action) => action !== 'dynamodb:Query');
    if (itemActions.length > 0) {
      Grant.addToPrincipal({ grantee, actions: itemActions, resourceArns: [this.table.tableArn] });
    }
    if (actions.includes('dynamodb:Query')) {
      Grant.addToPrincipal({
        grantee,
        actions: ['dynamodb:Query'],
        resourceArns: [this.table.tableArn, ...this.indexArns()],
      });
    }
  }

  private indexArns(): string[] {
    return INDEX_LIST.map((index) => `${this.table.tableArn}/index/${index.indexName}`);
  }
}
