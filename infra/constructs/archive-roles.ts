import { Duration, Validations } from 'aws-cdk-lib';
import { AccountRootPrincipal, type IPrincipal, PolicyStatement, PrincipalWithConditions, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Archive } from './archive.js';
import type { ArchiveIndexStore } from './archive-index.js';

/**
 * The two roles of the archive's reading side. Both are assumed per person, with the person's name as session name
 * and SourceIdentity (required by their trust policies), so CloudTrail names who read or deleted what:
 * - the signer role: reads the index and the audit trail, appends to it, and signs the viewer's and `archive open`'s
 *   links (GetObject; with a session policy limiting each link's session to one object);
 * - the erasure role: the only principal the bucket policy lets delete versions or bypass governance retention;
 *   assumable only in sessions named `eraser-…`, the name `archive erase` gives them.
 * Who may assume them: principals of this account whose own IAM policy allows it (as for the reader role), and, for
 * the signer role, the viewer Lambda (ArchiveViewer grants it).
 */
export class ArchiveRoles extends Construct {
  readonly signer: Role;
  readonly eraser: Role;

  constructor(scope: Construct, id: string, props: { archive: Archive; index: ArchiveIndexStore }) {
    super(scope, id);
    const named = { StringLike: { 'sts:SourceIdentity': '?*' } };
    this.signer = new Role(this, 'Signer', {
      assumedBy: new PrincipalWithConditions(new AccountRootPrincipal(), named),
      description: 'attachment-vault: read the archive index, append to the audit trail, sign links of at most 5 minutes',
      maxSessionDuration: Duration.hours(1),
    });
    ArchiveRoles.allowSourceIdentity(this.signer, new AccountRootPrincipal(), named);
    props.archive.grantSigner(this.signer);
    props.index.grantReaderSide(this.signer);

    const erasure = { StringLike: { 'sts:SourceIdentity': '?*', 'sts:RoleSessionName': 'eraser-*' } };
    this.eraser = new Role(this, 'Eraser', {
      assumedBy: new PrincipalWithConditions(new AccountRootPrincipal(), erasure),
      description: 'attachment-vault: erase archived files (every version, governance retention bypassed), tombstone the index',
      maxSessionDuration: Duration.hours(1),
    });
    ArchiveRoles.allowSourceIdentity(this.eraser, new AccountRootPrincipal(), erasure);
    props.archive.grantEraser(this.eraser);
    props.index.grantEraser(this.eraser);

    for (const role of [this.signer, this.eraser]) {
      Validations.of(role).acknowledge({
        id: props.archive.objectWildcardFinding(),
        reason: 'Objects are keyed tickets/{ticketId}/{attachmentId}: the role acts on whichever file a person asks for, under the prefix only.',
      });
    }
  }

  /** Setting SourceIdentity on AssumeRole needs sts:SetSourceIdentity in the trust policy too. */
  static allowSourceIdentity(role: Role, principal: IPrincipal, conditions: Record<string, Record<string, string>> = {}): void {
    role.assumeRolePolicy?.addStatements(new PolicyStatement({ actions: ['sts:SetSourceIdentity'], principals: [principal], conditions }));
  }
}
