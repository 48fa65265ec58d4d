import { conditionsMatch, globMatches, UnsupportedPolicyFeature, type ConditionBlock, type RequestContext } from './conditions.js';

/**
 * A small IAM policy evaluator for one account: a role's identity policies, plus the resource policy of the resource
 * it calls (an S3 bucket policy, a KMS key policy), evaluated the way AWS documents same-account requests:
 *
 * 1. An explicit Deny in any policy that applies wins.
 * 2. Otherwise an Allow is needed: in an identity policy, or in the resource policy for this principal.
 * 3. A KMS key is stricter: its key policy must allow the principal itself, or allow the account (the
 *    "enable IAM policies" statement), in which case an identity-policy Allow is also needed.
 *
 * Not modelled (nothing in this project's templates uses them): permissions boundaries, SCPs, session policies,
 * cross-account requests, policy variables, NotPrincipal. Meeting one throws UnsupportedPolicyFeature.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** A policy and where it comes from (for messages): e.g. `AWS::IAM::Policy CopyRoleDefaultPolicy`. */
export interface NamedPolicy {
  source: string;
  document: PolicyDocument;
}

export interface AuthorizationRequest {
  /** The calling role's ARN (what aws:PrincipalArn carries for its sessions). */
  principalArn: string;
  account: string;
  action: string;
  resource: string;
  context: RequestContext;
}

export interface StatementRef {
  source: string;
  index: number;
  sid?: string;
}

export interface PolicySet {
  identity: NamedPolicy[];
  /** The resource's own policy, if it has one; `kms` applies the key-policy rule. */
  resource?: NamedPolicy & { kind: 'kms' | 'resource' };
}

export interface Decision {
  allowed: boolean;
  /** Why, in words: the denying statement, or the missing Allow. */
  reason: string;
  /** Every identity-policy Allow statement that matched (what an over-grant report counts as used). */
  identityAllows: StatementRef[];
  deniedBy?: StatementRef;
}

export function statementsOf(document: PolicyDocument): PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

const list = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

function checkResourcePattern(pattern: string): string {
  if (pattern.includes('${')) throw new UnsupportedPolicyFeature(`policy variable in resource ${pattern}`);
  return pattern;
}

export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, true);
}

function matchesActionAndResource(statement: PolicyStatement, request: AuthorizationRequest): boolean {
  const actions = list(statement.Action);
  const notActions = list(statement.NotAction);
  const actionOk = actions ? actions.some((a) => actionMatches(a, request.action)) : !!notActions && !notActions.some((a) => actionMatches(a, request.action));
  if (!actionOk) return false;
  const resources = list(statement.Resource);
  const notResources = list(statement.NotResource);
  if (!resources && !notResources) return true; // a resource policy statement may leave Resource implicit
  return resources
    ? resources.some((r) => globMatches(checkResourcePattern(r), request.resource))
    : !notResources!.some((r) => globMatches(checkResourcePattern(r), request.resource));
}

/** How a resource policy's Principal names the caller: the caller itself, its whole account, or not at all. */
export function principalMatch(statement: PolicyStatement, request: AuthorizationRequest): 'caller' | 'account' | undefined {
  if (statement.NotPrincipal !== undefined) throw new UnsupportedPolicyFeature('NotPrincipal');
  const principal = statement.Principal;
  if (principal === '*') return 'caller';
  if (typeof principal !== 'object' || principal === null) return undefined;
  const aws = (principal as Record<string, unknown>).AWS;
  if (aws === undefined) return undefined; // Service or Federated principals: not an IAM role's request
  const names = (Array.isArray(aws) ? aws : [aws]).map(String);
  if (names.includes('*') || names.includes(request.principalArn)) return 'caller';
  const root = `arn:${request.principalArn.split(':')[1] ?? 'aws'}:iam::${request.account}:root`;
  if (names.includes(root) || names.includes(request.account)) return 'account';
  return undefined;
}

function matching(policies: NamedPolicy[], request: AuthorizationRequest, effect: 'Allow' | 'Deny', resourcePolicy: boolean) {
  const found: Array<StatementRef & { principal?: 'caller' | 'account' }> = [];
  for (const { source, document } of policies) {
    statementsOf(document).forEach((statement, index) => {
      if (statement.Effect !== effect || !matchesActionAndResource(statement, request)) return;
      const principal = resourcePolicy ? principalMatch(statement, request) : undefined;
      if (resourcePolicy && !principal) return;
      if (!conditionsMatch(statement.Condition, request.context)) return;
      found.push({ source, index, ...(statement.Sid ? { sid: statement.Sid } : {}), ...(principal ? { principal } : {}) });
    });
  }
  return found;
}

const describe = (ref: StatementRef) => `${ref.source} statement ${ref.sid ?? `#${ref.index + 1}`}`;

/** The decision for one request against a role's identity policies and the resource's own policy. */
export function evaluate(request: AuthorizationRequest, policies: PolicySet): Decision {
  const resource = policies.resource ? [policies.resource] : [];
  const deny = [...matching(policies.identity, request, 'Deny', false), ...matching(resource, request, 'Deny', true)][0];
  const identityAllows = matching(policies.identity, request, 'Allow', false).map(({ source, index, sid }) => ({ source, index, ...(sid ? { sid } : {}) }));
  if (deny) return { allowed: false, reason: `explicitly denied by ${describe(deny)}`, identityAllows, deniedBy: deny };
  const resourceAllows = matching(resource, request, 'Allow', true);
  if (policies.resource?.kind === 'kms') {
    if (resourceAllows.some((r) => r.principal === 'caller')) return { allowed: true, reason: 'allowed by the key policy', identityAllows };
    if (!resourceAllows.some((r) => r.principal === 'account')) {
      return { allowed: false, reason: `the key policy (${policies.resource.source}) neither allows the caller nor enables IAM policies for ${request.action}`, identityAllows };
    }
  } else {
    // Same account: a bucket policy that names the caller allows by itself; one that names the account defers to IAM.
    const direct = resourceAllows.find((r) => r.principal === 'caller');
    if (direct) return { allowed: true, reason: `allowed by ${describe(direct)}`, identityAllows };
  }
  if (identityAllows.length > 0) return { allowed: true, reason: `allowed by ${describe(identityAllows[0]!)}`, identityAllows };
  return { allowed: false, reason: 'no Allow statement in its identity policies matches', identityAllows };
}
