import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METRIC } from '../../lambdas/shared/metric-names.js';
import { logicalId, synthVault, type VaultSynth } from './support/vault.js';

/**
 * The CloudWatch dashboard: the stack's alarms, both state machines' executions, and every metric the steps emit
 * (lambdas/shared/metrics.ts) for live and backfill traffic, under the dimensions the EMF lines carry.
 */
let vault: VaultSynth;
let body: { widgets: Array<{ type: string; properties: Record<string, unknown> }> };
beforeAll(() => {
  vault = synthVault();
  const dashboards = vault.template.findResources('AWS::CloudWatch::Dashboard') as Record<string, { Properties: { DashboardName: string; DashboardBody: unknown } }>;
  expect(Object.keys(dashboards)).toHaveLength(1);
  const [dashboard] = Object.values(dashboards);
  expect(dashboard!.Properties.DashboardName).toBe('AttachmentVault');
  // The body is an Fn::Join of literal JSON and the resources' references: rebuilt with each reference as its logical ID.
  const joined = vault.stack.resolve(dashboard!.Properties.DashboardBody) as { 'Fn::Join': [string, unknown[]] };
  const text = joined['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replace(/"/g, "'")))
    .join('');
  body = JSON.parse(text) as typeof body;
});
afterAll(() => vault?.cleanup());

const metricsOf = (title: string) => {
  const widget = body.widgets.find((w) => w.properties.title === title);
  expect(widget).toBeDefined();
  return (widget!.properties.metrics as unknown[][]).map((m) => m.filter((x) => typeof x === 'string') as string[]);
};

/** A metric's [namespace, name, dimension, value, …] as its dimensions (the label and statistic are in an object). */
const dimensions = (m: string[]): Record<string, string> => Object.fromEntries(Array.from({ length: (m.length - 2) / 2 }, (_, i) => [m[2 + 2 * i]!, m[3 + 2 * i]!]));

describe('dashboard', () => {
  it("shows every alarm of the stack's Observability", () => {
    const alarms = body.widgets.find((w) => w.type === 'alarm')!;
    const listed = JSON.stringify(alarms.properties.alarms);
    expect(vault.stack.observability.alarms.length).toBeGreaterThanOrEqual(5);
    for (const alarm of vault.stack.observability.alarms) expect(listed).toContain(logicalId(alarm));
  });

  it("graphs both state machines' executions: started, succeeded, failed, timed out, aborted", () => {
    for (const [title, machine] of [
      ['Ticket executions (per-ticket state machine)', vault.stack.workflow.stateMachine],
      ['Backfill executions (backfill state machine)', vault.stack.backfill.stateMachine],
    ] as const) {
      const metrics = metricsOf(title);
      expect(metrics.map((m) => m[1]).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsTimedOut']);
      for (const m of metrics) {
        expect(m[0]).toBe('AWS/States');
        expect(m.join(' ')).toContain(logicalId(machine));
      }
    }
  });

  it('graphs every metric the steps emit, for live and backfill, in namespace AttachmentVault with the service and Traffic dimensions', () => {
    const graphed = body.widgets.filter((w) => w.type === 'metric').flatMap((w) => (w.properties.metrics as unknown[][]).map((m) => m.filter((x) => typeof x === 'string') as string[]));
    const own = graphed.filter((m) => m[0] === 'AttachmentVault');
    for (const name of Object.values(METRIC)) {
      const series = own.filter((m) => m[1] === name);
      expect(series.length).toBeGreaterThan(0);
      for (const m of series) expect(dimensions(m)).toEqual({ service: 'attachment-vault', Traffic: expect.stringMatching(/^(live|backfill)$/) });
    }
    for (const name of [METRIC.filesArchived, METRIC.filesFailed, METRIC.budgetRequestsUsed, METRIC.budgetRequestsRefused, METRIC.redactionLagSeconds]) {
      expect(new Set(own.filter((m) => m[1] === name).map((m) => dimensions(m).Traffic))).toEqual(new Set(['live', 'backfill']));
    }
  });
});
