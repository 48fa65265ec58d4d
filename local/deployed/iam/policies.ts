import type { TemplateResolver } from '../template.js';
import { UnsupportedPolicyFeature } from './conditions.js';
import type { NamedPolicy, PolicyDocument, PolicySet } from './evaluate.js';
import type { Permission } from './requests.js';

/**
 * The policies of a template, resolved: each role's identity policies (its AWS::IAM::Policy resources and inline
 * Policies), each bucket's AWS::S3::BucketPolicy and each AWS::KMS::Key's key policy. A role with managed policies
 * cannot be evaluated here (their documents are not in the template) and throws UnsupportedPolicyFeature.
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

  /** What applies to one permission of one role. */
  policySet(roleLogicalId: string, permission: Permission): PolicySet {
    const identity = this.identity(roleLogicalId);
    const target = permission.resourcePolicy;
    if (target?.kind === 'kms') return { identity, resource: { ...this.keyPolicy(target.keyArn), kind: 'kms' } };
    const bucket = target?.kind === 'bucket' ? this.bucketPolicy(target.bucket) : undefined;
    return bucket ? { identity, resource: { ...bucket, kind: 'resource' } } : { identity };
  }
}
