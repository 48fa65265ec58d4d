import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { createVaultApp } from '../../../infra/app.js';
import { PROJECT_ROOT } from '../../../infra/project.js';
import type { AttachmentVaultStack } from '../../../infra/stack.js';

/**
 * One synthesis of the real app, as `cdk synth` builds it: cdk.json's context (feature flags and settings),
 * cdk-nag registered by createVaultApp, the real ASL file and handler entries. Each test file calls this once
 * in beforeAll. `bundle: false` skips esbuild through CDK's own `aws:cdk:bundling-stacks` context (what
 * `cdk synth --exclusively` uses); nag.test.ts bundles for real.
 */
export interface VaultSynth {
  stack: AttachmentVaultStack;
  template: Template;
  assembly: CloudAssembly;
  /** CDK's validation report (cdk-nag's findings land here). */
  report: ValidationReport;
  /** Deletes the cloud assembly (bundles included); call in afterAll. */
  cleanup(): void;
}

export interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: { ruleName: string; severity: string }[] }[];
}

export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export function synthVault(options: { bundle?: boolean; context?: Record<string, unknown> } = {}): VaultSynth {
  const outdir = mkdtempSync(path.join(tmpdir(), 'vault-cdk-'));
  const { app, stack } = createVaultApp({
    outdir,
    context: {
      ...cdkJsonContext(),
      zendeskSubdomain: 'acme',
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
  return {
    stack,
    template: Template.fromStack(stack),
    assembly,
    report,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

export type Json = unknown;

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
  Sid?: string;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): Json[] {
  if (statement.Resource === undefined) return [];
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every statement of every AWS::IAM::Policy attached to the role (and its inline/managed policies, which must be empty). */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles?: Json[]; PolicyDocument: { Statement: Statement[] } } }>;
  for (const policy of Object.values(policies)) {
    const roles = policy.Properties.Roles ?? [];
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  return statements;
}

/** Logical IDs of the roles whose policies allow `action` (exactly, or through a wildcard). */
export function rolesAllowing(template: Template, action: string): string[] {
  const matches = new Set<string>();
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles?: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }>;
  for (const policy of Object.values(policies)) {
    const allows = policy.Properties.PolicyDocument.Statement.some(
      (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => actionMatches(a, action)),
    );
    if (allows) for (const role of policy.Properties.Roles ?? []) matches.add(role.Ref);
  }
  return [...matches].sort();
}

export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(action);
}
