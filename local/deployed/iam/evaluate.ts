import { conditionsMatch, globMatches, UnsupportedPolicyFeature, type ConditionBlock, type RequestContext } from './conditions.js';

/**
 * A small IAM policy evaluator for one account: a role's identity policies, the session policy of a role session, and
 * the resource policy of the resource it calls (an S3 bucket policy, a DynamoDB table's resource policy, a KMS key
 * policy, a role's trust policy), evaluated the way AWS documents same-account requests:
 *
 * 1. An explicit Deny in any policy that applies wins.
 * 2. Otherwise an Allow is needed: in an identity policy, or in the resource policy for this principal.
 * 3. A KMS key and a role's trust policy are stricter: the key policy (trust policy) must allow the principal itself,
 *    or allow the account, in which case an identity-policy Allow is also needed.
 * 4. A role session with a session policy can do only what that policy allows as well (for every action, including
 *    what a service does with the session's credentials, such as S3's kms:Decrypt): the resource policies here name
 *    roles, not sessions, so the session policy limits them too.
 *
 * Not modelled (nothing in this project's templates uses them): permissions boundaries, SCPs, cross-account requests,
 * policy variables, NotPrincipal. Meeting one throws UnsupportedPolicyFeature.
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
  /** The resource's own policy, if it has one; `kms` (a key policy) and `trust` (a role's trust policy) must name the caller or its account. */
  resource?: NamedPolicy & { kind: 'kms' | 'trust' | 'resource' };
  /** The session policy of the calling role session, if it was given one. */
  session?: NamedPolicy;
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

/** The decision of the identity and resource policies alone (steps 1 to 3). */
function decide(request: AuthorizationRequest, policies: PolicySet, identityAllows: StatementRef[]): Omit<Decision, 'identityAllows'> {
  const resource = policies.resource ? [policies.resource] : [];
  const sessionDenies = policies.session ? matching([policies.session], request, 'Deny', false) : [];
  const deny = [...matching(policies.identity, request, 'Deny', false), ...matching(resource, request, 'Deny', true), ...sessionDenies][0];
  if (deny) return { allowed: false, reason: `explicitly denied by ${describe(deny)}`, deniedBy: deny };
  const resourceAllows = matching(resource, request, 'Allow', true);
  const kind = policies.resource?.kind;
  if (kind === 'kms' || kind === 'trust') {
    const what = kind === 'kms' ? 'the key policy' : 'the trust policy';
    if (resourceAllows.some((r) => r.principal === 'caller')) return { allowed: true, reason: `allowed by ${what}` };
    if (!resourceAllows.some((r) => r.principal === 'account')) {
      return { allowed: false, reason: `${what} (${policies.resource!.source}) neither allows the caller nor ${kind === 'kms' ? 'enables IAM policies' : 'its account'} for ${request.action}` };
    }
  } else {
    // Same account: a resource policy that names the caller allows by itself; one that names the account defers to IAM.
    const direct = resourceAllows.find((r) => r.principal === 'caller');
    if (direct) return { allowed: true, reason: `allowed by ${describe(direct)}` };
  }
  if (identityAllows.length > 0) return { allowed: true, reason: `allowed by ${describe(identityAllows[0]!)}` };
  return { allowed: false, reason: 'no Allow statement in its identity policies matches' };
}

/** The decision for one request against a role's identity policies, its session policy and the resource's own policy. */
export function evaluate(request: AuthorizationRequest, policies: PolicySet): Decision {
  const identityAllows = matching(policies.identity, request, 'Allow', false).map(({ source, index, sid }) => ({ source, index, ...(sid ? { sid } : {}) }));
  const decision = decide(request, policies, identityAllows);
  if (decision.allowed && policies.session && matching([policies.session], request, 'Allow', false).length === 0) {
    return { allowed: false, reason: `not allowed by the ${policies.session.source}, which limits what the session may do`, identityAllows };
  }
  return { ...decision, identityAllows };
}
