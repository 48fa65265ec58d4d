import type { TemplateResolver } from '../template.js';
import { UnsupportedPolicyFeature } from './conditions.js';
import type { NamedPolicy, PolicyDocument, PolicySet } from './evaluate.js';
import type { Permission } from './requests.js';

/**
 * The policies of a template, resolved: each role's identity policies (its AWS::IAM::Policy resources and inline
 * Policies) and trust policy, each bucket's AWS::S3::BucketPolicy, each AWS::DynamoDB::Table's ResourcePolicy (which
 * applies to its indexes too) and each AWS::KMS::Key's key policy. A role with managed policies cannot be evaluated
 * here (their documents are not in the template) and throws UnsupportedPolicyFeature.
 */
export class TemplatePolicies {
  constructor(private readonly resolver: TemplateResolver) {}

  private resources(type: string) {
    return Object.entries(this.resolver.template.Resources).filter(([, r]) => r.Type === type);
  }

  /** The identity policies of the role with this logical ID. */
  identity(roleLogicalId: string): NamedPolicy[] {
    const role = this.resolver.template.Resources[roleLogicalId];
    if (!role || role.Type !== 'AWS::IAM::Role') throw new UnsupportedPolicyFeature(`${roleLogicalId} is not an AWS::IAM::Role of the template`);
    if (role.Properties?.ManagedPolicyArns || role.Properties?.PermissionsBoundary) {
      throw new UnsupportedPolicyFeature(`${roleLogicalId} has managed policies or a permissions boundary, which the template does not contain`);
    }
    const inline = ((role.Properties?.Policies ?? []) as Array<{ PolicyName: unknown; PolicyDocument: unknown }>).map((p) => ({
      source: `${roleLogicalId} inline policy ${String(this.resolver.resolve(p.PolicyName))}`,
      document: this.resolver.resolve(p.PolicyDocument) as PolicyDocument,
    }));
    const attached = this.resources('AWS::IAM::Policy')
      .filter(([, r]) => ((r.Properties?.Roles ?? []) as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleLogicalId))
      .map(([id, r]) => ({ source: `AWS::IAM::Policy ${id}`, document: this.resolver.resolve(r.Properties?.PolicyDocument) as PolicyDocument }));
    return [...inline, ...attached];
  }

  private bucketPolicy(bucket: string): NamedPolicy | undefined {
    const found = this.resources('AWS::S3::BucketPolicy').find(([, r]) => this.resolver.resolve(r.Properties?.Bucket) === bucket);
    return found ? { source: `bucket policy ${found[0]}`, document: this.resolver.resolve(found[1].Properties?.PolicyDocument) as PolicyDocument } : undefined;
  }

  private keyPolicy(keyArn: string): NamedPolicy {
    const found = this.resources('AWS::KMS::Key').find(([id]) => this.resolver.getAtt(id, 'Arn') === keyArn);
    // A key outside the template: nothing here allows its use.
    if (!found) return { source: `key ${keyArn} (not in the template)`, document: { Statement: [] } };
    return { source: `key policy of ${found[0]}`, document: this.resolver.resolve(found[1].Properties?.KeyPolicy) as PolicyDocument };
  }

  private tablePolicy(tableArn: string): NamedPolicy | undefined {
    const found = this.resources('AWS::DynamoDB::Table').find(([id]) => this.resolver.getAtt(id, 'Arn') === tableArn);
    const document = found?.[1].Properties?.ResourcePolicy ? (this.resolver.resolve(found[1].Properties.ResourcePolicy) as { PolicyDocument: PolicyDocument }).PolicyDocument : undefined;
    return found && document ? { source: `table policy of ${found[0]}`, document } : undefined;
  }

  private trustPolicy(roleArn: string): NamedPolicy {
    const found = this.resources('AWS::IAM::Role').find(([id]) => this.resolver.getAtt(id, 'Arn') === roleArn);
    // A role outside the template: nothing here lets anyone assume it.
    if (!found) return { source: `role ${roleArn} (not in the template)`, document: { Statement: [] } };
    return { source: `trust policy of ${found[0]}`, document: this.resolver.resolve(found[1].Properties?.AssumeRolePolicyDocument) as PolicyDocument };
  }

  /** The resource policy that applies to one permission, if any. */
  private resourcePolicy(permission: Permission): PolicySet['resource'] {
    const target = permission.resourcePolicy;
    switch (target?.kind) {
      case 'kms':
        return { ...this.keyPolicy(target.keyArn), kind: 'kms' };
      case 'trust':
        return { ...this.trustPolicy(target.roleArn), kind: 'trust' };
      case 'bucket': {
        const bucket = this.bucketPolicy(target.bucket);
        return bucket && { ...bucket, kind: 'resource' };
      }
      case 'table': {
        const table = this.tablePolicy(target.tableArn);
        return table && { ...table, kind: 'resource' };
      }
      default:
        return undefined;
    }
  }

  /** What applies to one permission of one role (or of a session of it, with its session policy). */
  policySet(roleLogicalId: string, permission: Permission, session?: { name: string; policy?: PolicyDocument }): PolicySet {
    const identity = this.identity(roleLogicalId);
    const resource = this.resourcePolicy(permission);
    return {
      identity,
      ...(resource ? { resource } : {}),
      ...(session?.policy ? { session: { source: `session policy of ${roleLogicalId} session ${session.name}`, document: session.policy } } : {}),
    };
  }
}
