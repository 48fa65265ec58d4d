import { Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, PayloadFormatVersion, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { ArnPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AccountRecovery, CfnUserPoolGroup, Mfa, OAuthScope, UserPool, UserPoolClient, type UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ViewerConfig } from '../config.js';
import { LAMBDA_ENTRIES } from '../project.js';
import type { Archive } from './archive.js';
import type { ArchiveIndexStore } from './archive-index.js';
import { ArchiveRoles } from './archive-roles.js';
import { VaultFunction } from './vault-function.js';

export interface ArchiveViewerProps {
  archive: Archive;
  index: ArchiveIndexStore;
  roles: ArchiveRoles;
  config: ViewerConfig;
  environment: Record<string, string>;
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
}

/** The page's routes: served without a token (they hold no data). Everything under /api/ needs a verified JWT. */
export const VIEWER_PAGE_PATHS = ['/', '/viewer.js', '/viewer.css', '/favicon.ico'] as const;

/**
 * The viewer: an HTTP API whose /api/* routes sit behind a JWT authorizer (the stack's Cognito user pool, or the
 * team's OIDC provider from context), one Lambda that serves both the page and the API (no public bucket, nothing
 * from a CDN), and the signer role it assumes per person to sign links.
 */
export class ArchiveViewer extends Construct {
  readonly api: HttpApi;
  readonly fn: VaultFunction;
  readonly url: string;
  readonly userPool?: UserPool;
  readonly domain?: UserPoolDomain;
  readonly issuer: string;
  readonly audience: string;

  constructor(scope: Construct, id: string, props: ArchiveViewerProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', { description: 'attachment-vault: the archive viewer', createDefaultStage: false });
    this.createStage(props);
    this.url = `${this.api.apiEndpoint}/`;
    if (props.config.oidc) {
      this.issuer = props.config.oidc.issuer;
      this.audience = props.config.oidc.audience;
    } else {
      const cognito = this.createUserPool(props.config);
      this.userPool = cognito.pool;
      this.domain = cognito.domain;
      this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${cognito.pool.userPoolId}`;
      this.audience = cognito.client.userPoolClientId;
    }
    this.fn = this.createFunction(props);
    this.addRoutes();
  }

  private createStage(props: ArchiveViewerProps): void {
    const logs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(logs),
        // Request metadata and the verified subject only: no query string (it holds ticket and requester IDs), no body.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: AccessLogField.contextRequestTime(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            routeKey: '$context.routeKey',
            status: AccessLogField.contextStatus(),
            subject: '$context.authorizer.claims.sub',
            error: AccessLogField.contextErrorMessage(),
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
  }

  private createUserPool(config: ViewerConfig): { pool: UserPool; client: UserPoolClient; domain: UserPoolDomain } {
    const pool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const id of ['AwsSolutions-COG8']) {
      Validations.of(pool).acknowledge({
        id,
        reason: 'Threat protection needs the paid Plus feature plan; sign-in requires MFA (TOTP), the pool has no self sign-up, and only the readers group can read the archive.',
      });
    }
    new CfnUserPoolGroup(this, 'Readers', { userPoolId: pool.userPoolId, groupName: config.group, description: 'May read the archive in the viewer' });
    const prefix = config.cognitoDomainPrefix ?? Fn.join('-', [Stack.of(this).stackName.toLowerCase(), 'viewer', Aws.ACCOUNT_ID]);
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: prefix } });
    const client = pool.addClient('Page', {
      generateSecret: false,
      authFlows: {},
      oAuth: { flows: { authorizationCodeGrant: true }, scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE], callbackUrls: [this.url], logoutUrls: [this.url] },
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      preventUserExistenceErrors: true,
    });
    return { pool, client, domain };
  }

  private createFunction(props: ArchiveViewerProps): VaultFunction {
    const authOrigins = this.domain ? [`https://${this.domain.domainName}.auth.${Stack.of(this).region}.amazoncognito.com`] : [];
    const fn = new VaultFunction(this, 'Function', {
      entry: LAMBDA_ENTRIES.viewer,
      description: 'attachment-vault viewer: the page, file search, audited links of at most 5 minutes',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      environment: {
        ...props.environment,
        ARCHIVE_BUCKET: props.archive.bucket.bucketName,
        ARCHIVE_INDEX_TABLE: props.index.index.tableName,
        ARCHIVE_AUDIT_TABLE: props.index.audit.tableName,
        ARCHIVE_SIGNER_ROLE_ARN: props.roles.signer.roleArn,
        VIEWER_OIDC_ISSUER: this.issuer,
        VIEWER_OIDC_CLIENT_ID: this.audience,
        VIEWER_GROUP: props.config.group,
        VIEWER_GROUPS_CLAIM: props.config.groupsClaim,
        ...(authOrigins.length ? { VIEWER_AUTH_ORIGINS: authOrigins.join(',') } : {}),
      },
    });
    props.index.grantViewer(fn.role);
    fn.role.addToPrincipalPolicy(new PolicyStatement({ sid: 'SignAsThePerson', actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'], resources: [props.roles.signer.roleArn] }));
    const principal = new ArnPrincipal(fn.role.roleArn);
    props.roles.signer.assumeRolePolicy?.addStatements(new PolicyStatement({ actions: ['sts:AssumeRole'], principals: [principal] }));
    ArchiveRoles.allowSourceIdentity(props.roles.signer, principal);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
    return fn;
  }

  private addRoutes(): void {
    const integration = new HttpLambdaIntegration('ViewerIntegration', this.fn.fn, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    const authorizer = new HttpJwtAuthorizer('ReaderToken', this.issuer, { jwtAudience: [this.audience] });
    const open: HttpRoute[] = [];
    for (const path of VIEWER_PAGE_PATHS) open.push(...this.api.addRoutes({ path, methods: [HttpMethod.GET], integration }));
    this.api.addRoutes({ path: '/api/{proxy+}', methods: [HttpMethod.GET, HttpMethod.POST], integration, authorizer });
    for (const route of open) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'The page, its script and its stylesheet hold no data and must load before sign-in; every /api/ route requires a verified JWT.',
      });
    }
  }
}
