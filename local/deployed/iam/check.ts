import type { RecordedCall } from '../calls.js';
import { tableShapes } from '../tables.js';
import type { TemplateResolver } from '../template.js';
import { globMatches } from './conditions.js';
import { actionMatches, evaluate, statementsOf, type AuthorizationRequest, type PolicyDocument, type StatementRef } from './evaluate.js';
import { TemplatePolicies } from './policies.js';
import { permissionsFor, UnmappedCall, type AwsLocation, type Permission } from './requests.js';

/**
 * Every recorded call against the IAM of the template that would be deployed: each call's permissions (requests.ts)
 * evaluated against the calling role's identity policies and the resource's policy (evaluate.ts). The result names
 * what was denied, and what each role is allowed but never used (over-grants).
 */

export interface Principal {
  accessKeyId: string;
  /** The function (or state machine) that signs with this key, or `<role> session <name>` for a role session. */
  logicalId: string;
  roleLogicalId: string;
  /** A role session (STS AssumeRole): its name and the session policy it was given, if any. */
  session?: { name: string; policy?: PolicyDocument };
}

export interface Denial {
  caller: string;
  role: string;
  action: string;
  resource: string;
  reason: string;
  call: string;
  because?: string;
}

export interface Grant {
  role: string;
  action: string;
  resource: string;
  statement: string;
}

export interface IamReport {
  /** Permissions evaluated (a call may need several). */
  evaluated: number;
  denials: Denial[];
  /** Calls this check does not know how to authorize: each fails the check. */
  unmapped: string[];
  /** Calls signed by no deployed principal (the test's own setup): not evaluated. */
  unattributed: number;
  /** Allowed to a role, never used by any call. */
  unused: Grant[];
  /** Allowed and used by the service for the role (logs, traces): not observable here. */
  serviceSide: Grant[];
}

/** Actions the Lambda and Step Functions services perform with the role themselves (log delivery, X-Ray). */
export const SERVICE_SIDE_ACTIONS = ['logs:*', 'xray:*'];

function callTarget(call: RecordedCall): string {
  if (call.s3) return `${call.s3.bucket}/${call.s3.key ?? ''}${call.s3.signature?.presigned ? ' (presigned)' : ''}`;
  if (call.dynamodb) return `${call.dynamodb.tableName}${call.dynamodb.indexName ? `/index/${call.dynamodb.indexName}` : ''}`;
  return call.resourceArn ?? '';
}

const callText = (call: RecordedCall) => `${call.service} ${call.operation} ${callTarget(call)}`.trim();

const statementKey = (ref: StatementRef) => `${ref.source}#${ref.index}`;

/** Evaluates every call. `principals` maps access keys to the template's functions and their roles. */
export function checkCalls(calls: readonly RecordedCall[], resolver: TemplateResolver, principals: Principal[], location: AwsLocation): IamReport {
  const policies = new TemplatePolicies(resolver);
  const tables = tableShapes(resolver);
  const report: IamReport = { evaluated: 0, denials: [], unmapped: [], unattributed: 0, unused: [], serviceSide: [] };
  /** role -> statement -> requests it allowed. */
  const used = new Map<string, Map<string, Permission[]>>();
  for (const call of calls) {
    const principal = principals.find((p) => p.accessKeyId === call.accessKeyId);
    if (!principal) {
      report.unattributed++;
      continue;
    }
    const principalArn = resolver.getAtt(principal.roleLogicalId, 'Arn');
    let permissions: Permission[];
    try {
      permissions = permissionsFor(call, principalArn, location, tables);
    } catch (error) {
      if (!(error instanceof UnmappedCall)) throw error;
      report.unmapped.push(`${principal.logicalId}: ${error.message}`);
      continue;
    }
    for (const permission of permissions) {
      report.evaluated++;
      const request: AuthorizationRequest = { principalArn, account: location.account, action: permission.action, resource: permission.resource, context: permission.context };
      const decision = evaluate(request, policies.policySet(principal.roleLogicalId, permission, principal.session));
      const byStatement = used.get(principal.roleLogicalId) ?? new Map<string, Permission[]>();
      used.set(principal.roleLogicalId, byStatement);
      for (const ref of decision.identityAllows) byStatement.set(statementKey(ref), [...(byStatement.get(statementKey(ref)) ?? []), permission]);
      if (!decision.allowed) {
        report.denials.push({
          caller: principal.logicalId,
          role: principal.roleLogicalId,
          action: permission.action,
          resource: permission.resource,
          reason: decision.reason,
          call: callText(call),
          ...(permission.because ? { because: permission.because } : {}),
        });
      }
    }
  }
  grantsReport(report, policies, principals, used);
  return report;
}

/** Each Allowed (role, action, resource) no evaluated request used. */
function grantsReport(report: IamReport, policies: TemplatePolicies, principals: Principal[], used: Map<string, Map<string, Permission[]>>): void {
  for (const role of [...new Set(principals.map((p) => p.roleLogicalId))]) {
    for (const policy of policies.identity(role)) {
      statementsOf(policy.document).forEach((statement, index) => {
        if (statement.Effect !== 'Allow') return;
        const permissions = used.get(role)?.get(statementKey({ source: policy.source, index })) ?? [];
        const actions = ([] as string[]).concat(statement.Action ?? []);
        const resources = ([] as string[]).concat(statement.Resource ?? '*');
        for (const action of actions) {
          for (const resource of resources) {
            const grant = { role, action, resource, statement: `${policy.source} ${statement.Sid ?? `#${index + 1}`}` };
            if (SERVICE_SIDE_ACTIONS.some((a) => actionMatches(a, action))) report.serviceSide.push(grant);
            else if (!permissions.some((p) => actionMatches(action, p.action) && globMatches(resource, p.resource))) report.unused.push(grant);
          }
        }
      });
    }
  }
}

/** One line per denial: who, which action on which resource, why, and for which call. */
export function formatDenials(denials: Denial[]): string {
  return denials
    .map((d) => `${d.caller} (role ${d.role}) is not allowed ${d.action} on ${d.resource}: ${d.reason} [call: ${d.call}${d.because ? `; ${d.because}` : ''}]`)
    .join('\n');
}

export function formatGrants(grants: Grant[]): string {
  return grants.map((g) => `${g.role}: ${g.action} on ${g.resource} (${g.statement})`).join('\n');
}

/** A logical ID without CDK's hash suffix: `ArchiveIndex4B278AE1` -> `ArchiveIndex`. */
export const readableId = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/**
 * A grant's resource in the template's words: each physical name or ARN of a resource of the template replaced by its
 * readable logical ID, and the `arn:<partition>:<service>:<region>:<account>:` prefix left out, e.g.
 * `table/ArchiveIndex/index/byTicket`, `ArchiveBucket/tickets/*`, `key/ArchiveKey`, `execution:WorkflowStateMachine:*`.
 */
export function readableResource(resolver: TemplateResolver, resource: string): string {
  const names: Array<[string, string]> = [];
  const attempt = (name: () => string, id: string) => {
    try {
      names.push([name(), readableId(id)]);
    } catch {
      // the resource has no such attribute
    }
  };
  for (const id of Object.keys(resolver.template.Resources)) {
    attempt(() => resolver.getAtt(id, 'Arn'), id);
    attempt(() => resolver.getAtt(id, 'Name'), id);
    attempt(() => resolver.ref(id), id);
  }
  let text = resource;
  for (const [physical, name] of names.filter(([p]) => p.length > 3).sort((a, b) => b[0].length - a[0].length)) {
    if (text.includes(physical)) text = text.split(physical).join(name);
  }
  return text.replace(/^arn:[^:]+:[^:]*:[^:]*:[^:]*:/, '');
}
