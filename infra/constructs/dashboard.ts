import { Duration, Stack } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, GraphWidget, Metric, TextWidget, type IAlarm, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, TRAFFIC_DIMENSION } from '../../lambdas/shared/metric-names.js';
import type { Traffic } from '../../lambdas/shared/traffic.js';

export interface DashboardProps {
  ticketStateMachine: StateMachine;
  backfillStateMachine: StateMachine;
  /** The stack's alarms (Observability): their state on the dashboard's first row. */
  alarms: IAlarm[];
  /** POWERTOOLS_SERVICE_NAME of the functions: the `service` dimension of their metrics. */
  service: string;
}

const PERIOD = Duration.minutes(5);
const TRAFFIC: readonly Traffic[] = ['live', 'backfill'];

/** `AttachmentVault`: the dashboard's name, from the stack's. */
export function dashboardNameOf(stackName: string): string {
  return stackName;
}

/**
 * One CloudWatch dashboard for the operator: the alarms, both state machines' executions, and the functions' own
 * metrics (lambdas/shared/metrics.ts, EMF through Powertools: namespace AttachmentVault, dimensions service and Traffic)
 * for live tickets and the backfill side by side: files archived, already archived, skipped and failed, bytes, the
 * redaction lag from a verified copy to its confirmed redaction, the request budget's requests used and refused, and
 * the backfill's tickets done and failed.
 */
export class VaultDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const metric = (name: string, traffic: Traffic, statistic = 'Sum', label = `${name} (${traffic})`) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { [SERVICE_DIMENSION]: props.service, [TRAFFIC_DIMENSION]: traffic }, statistic, period: PERIOD, label });
    const byTraffic = (...names: string[]) => names.flatMap((name) => TRAFFIC.map((traffic) => metric(name, traffic)));
    const executions = (sm: StateMachine) =>
      [sm.metricStarted(), sm.metricSucceeded(), sm.metricFailed(), sm.metricTimedOut(), sm.metricAborted()].map((m) => m.with({ statistic: 'Sum', period: PERIOD }));
    const graph = (title: string, left: Metric[], options: { stacked?: boolean; right?: Metric[]; leftLabel?: string } = {}): IWidget =>
      new GraphWidget({ title, left, ...(options.right ? { right: options.right } : {}), width: 12, height: 6, stacked: options.stacked ?? false, ...(options.leftLabel ? { leftYAxis: { label: options.leftLabel, showUnits: false } } : {}) });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: dashboardNameOf(Stack.of(this).stackName), defaultInterval: Duration.hours(24) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# attachment-vault\nAlarms, the two state machines, and what the steps report (live tickets and the backfill). `attachment-vault backfill status <runId>` shows a run\'s own progress.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 3 }));
    this.dashboard.addWidgets(
      graph('Ticket executions (per-ticket state machine)', executions(props.ticketStateMachine)),
      graph('Backfill executions (backfill state machine)', executions(props.backfillStateMachine)),
    );
    this.dashboard.addWidgets(
      graph('Files', byTraffic(METRIC.filesArchived, METRIC.filesAlreadyArchived, METRIC.filesSkipped, METRIC.filesFailed), { stacked: true }),
      graph('Bytes archived', byTraffic(METRIC.bytesArchived), { stacked: true }),
    );
    this.dashboard.addWidgets(
      graph(
        'Redaction lag: copy verified to redaction confirmed (seconds)',
        TRAFFIC.flatMap((traffic) => ['p50', 'p90', 'Maximum'].map((statistic) => metric(METRIC.redactionLagSeconds, traffic, statistic, `${statistic} (${traffic})`))),
        { leftLabel: 'seconds' },
      ),
      graph('Zendesk request budget: requests used and refused', byTraffic(METRIC.budgetRequestsUsed), { right: byTraffic(METRIC.budgetRequestsRefused) }),
    );
    this.dashboard.addWidgets(
      graph('Backfill tickets (each backfill report)', [metric(METRIC.backfillTicketsDone, 'backfill'), metric(METRIC.backfillTicketsFailed, 'backfill')], { stacked: true }),
    );
  }
}
