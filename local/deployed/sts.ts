import { randomBytes, randomUUID } from 'node:crypto';
import { accessKeyOf, type CallLog } from './calls.js';
import { serve, type Endpoint } from './json-endpoints.js';

/**
 * A small STS (AWS_ENDPOINT_URL_STS): `AssumeRole` only, in the query protocol the SDK speaks to STS (a form-encoded
 * POST, an XML answer). It checks what STS itself checks of a request (the role exists, RoleSessionName and
 * SourceIdentity are 2-64 of [\w+=,.@-], DurationSeconds is 900 s to the role's MaxSessionDuration, a session policy
 * is JSON of at most 2048 characters) and records every call; whether the caller may assume the role is the IAM
 * check's to say (the role's trust policy and the caller's identity policies, iam/).
 *
 * Each answer holds fresh credentials whose access key (`ASIA…`) the endpoint remembers: calls signed with it are the
 * session's, so the IAM check evaluates them against the assumed role and the session policy, as AWS does.
 */

export interface RoleSession {
  accessKeyId: string;
  roleArn: string;
  roleLogicalId: string;
  sessionName: string;
  sourceIdentity?: string;
  /** The session policy passed with AssumeRole (JSON text). */
  policy?: string;
  expiresAt: Date;
}

export interface TemplateRole {
  arn: string;
  logicalId: string;
  /** Seconds (IAM's default 3600 when the template sets none). */
  maxSessionDuration: number;
  roleId: string;
}

export interface LocalSts extends Endpoint {
  readonly sessions: RoleSession[];
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const NAME = /^[\w+=,.@-]{2,64}$/;

function error(status: number, code: string, message: string) {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** What STS refuses before any authorization: undefined when the request is well formed. */
function invalid(form: URLSearchParams, role: TemplateRole | undefined): ReturnType<typeof error> | undefined {
  if (!role) return error(403, 'AccessDenied', `Not authorized to perform sts:AssumeRole on ${form.get('RoleArn') ?? ''}`);
  const duration = Number(form.get('DurationSeconds') ?? 3600);
  if (!NAME.test(form.get('RoleSessionName') ?? '')) return error(400, 'ValidationError', 'RoleSessionName must be 2-64 characters of [\\w+=,.@-]');
  const sourceIdentity = form.get('SourceIdentity');
  if (sourceIdentity !== null && !NAME.test(sourceIdentity)) return error(400, 'ValidationError', 'SourceIdentity must be 2-64 characters of [\\w+=,.@-]');
  if (!Number.isInteger(duration) || duration < 900 || duration > role.maxSessionDuration) {
    return error(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const policy = form.get('Policy');
  if (policy !== null) {
    if (policy.length > 2048) return error(400, 'PackedPolicyTooLarge', 'The session policy is larger than 2048 characters.');
    try {
      JSON.parse(policy);
    } catch {
      return error(400, 'MalformedPolicyDocument', 'The session policy is not valid JSON.');
    }
  }
  return undefined;
}

function assumed(session: RoleSession, role: TemplateRole, secret: string, token: string): string {
  const roleName = role.arn.split('/').pop() ?? '';
  const account = role.arn.split(':')[4] ?? '';
  return [
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>',
    session.sourceIdentity ? `<SourceIdentity>${xml(session.sourceIdentity)}</SourceIdentity>` : '',
    `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(session.sessionName)}</Arn><AssumedRoleId>${role.roleId}:${xml(session.sessionName)}</AssumedRoleId></AssumedRoleUser>`,
    `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken><Expiration>${session.expiresAt.toISOString()}</Expiration></Credentials>`,
    session.policy ? `<PackedPolicySize>${Math.ceil((session.policy.length / 2048) * 100)}</PackedPolicySize>` : '',
    `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
  ].join('');
}

/** STS over the template's roles; `onSession` hears of each session it hands out. */
export async function startLocalSts(options: { roles: TemplateRole[]; log: CallLog; onSession?: (session: RoleSession) => void }): Promise<LocalSts> {
  const sessions: RoleSession[] = [];
  const endpoint = await serve(async ({ raw, headers, url }) => {
    const form = new URLSearchParams(raw.toString('utf8'));
    const operation = form.get('Action') ?? '';
    const roleArn = form.get('RoleArn') ?? '';
    const record = (status: number, details?: { sessionName: string; sourceIdentity?: string; policy?: string }) =>
      options.log.record({ accessKeyId: accessKeyOf(headers, url), service: 'sts', operation, status, resourceArn: roleArn, ...(details ? { sts: details } : {}) });
    if (operation !== 'AssumeRole') {
      record(400);
      return error(400, 'InvalidAction', `the local STS does not serve ${operation}`);
    }
    const role = options.roles.find((r) => r.arn === roleArn);
    const details = { sessionName: form.get('RoleSessionName') ?? '', ...(form.get('SourceIdentity') ? { sourceIdentity: form.get('SourceIdentity')! } : {}), ...(form.get('Policy') ? { policy: form.get('Policy')! } : {}) };
    const refused = invalid(form, role);
    if (refused || !role) {
      record(refused?.status ?? 403, details);
      return refused ?? error(403, 'AccessDenied', 'no such role');
    }
    const session: RoleSession = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      roleArn,
      roleLogicalId: role.logicalId,
      ...details,
      expiresAt: new Date(Date.now() + Number(form.get('DurationSeconds') ?? 3600) * 1000),
    };
    sessions.push(session);
    options.onSession?.(session);
    record(200, details);
    return { status: 200, headers: { 'content-type': 'text/xml' }, body: assumed(session, role, randomBytes(20).toString('base64'), randomBytes(32).toString('base64')) };
  });
  return { ...endpoint, sessions };
}
