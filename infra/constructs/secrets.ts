import { SecretValue, Validations } from 'aws-cdk-lib';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The three secrets, created with empty placeholder JSON for the operator to fill
 * (`aws secretsmanager put-secret-value --secret-id <arn> --secret-string '{...}'`). Lambdas receive only
 * their ARNs. CloudFormation writes the placeholder at creation only: later deploys leave the operator's value
 * alone as long as the placeholder below is unchanged.
 */
export class VaultSecrets extends Construct {
  /** `{"email","apiToken"}` (API token) or `{"oauthClientId","oauthClientSecret"}` (OAuth client). */
  readonly zendesk: Secret;
  /** `{"secret"}`: the Zendesk webhook's signing secret. */
  readonly webhookSigning: Secret;
  /** `{"url"}`: the Slack or Zapier incoming-webhook URL for run notifications. */
  readonly notifyUrl: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.zendesk = this.placeholder(
      'ZendeskCredentials',
      'attachment-vault: Zendesk API credentials, {"email","apiToken"} or {"oauthClientId","oauthClientSecret"}',
      { email: '', apiToken: '' },
    );
    this.webhookSigning = this.placeholder(
      'WebhookSigningSecret',
      'attachment-vault: Zendesk webhook signing secret, {"secret"}',
      { secret: '' },
    );
    this.notifyUrl = this.placeholder(
      'NotifyUrl',
      'attachment-vault: Slack or Zapier webhook URL for run notifications, {"url"}',
      { url: '' },
    );
  }

  /** secretsmanager:GetSecretValue on one secret (no DescribeSecret: Powertools getSecret does not need it). */
  static grantGetValue(secret: Secret, role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
  }

  private placeholder(id: string, description: string, value: Record<string, string>): Secret {
    const secret = new Secret(this, id, {
      description,
      // Empty fields, not secrets: the Lambdas reject them with a ConfigurationError until filled.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(value)),
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Third-party credentials (Zendesk token or OAuth client, Zendesk webhook signing secret, Slack/Zapier URL) are issued by those services; Secrets Manager cannot rotate them. Rotate in the issuing service, then put-secret-value.',
    });
    return secret;
  }
}
