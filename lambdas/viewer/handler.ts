import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import { dynamoAuditTrail } from '../shared/archive-audit.js';
import { createIndexDocumentClient, dynamoArchiveIndex } from '../shared/archive-index.js';
import { ConfigurationError } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { handleViewerRequest, type ViewerDeps } from './api.js';
import { DEFAULT_VIEWER_GROUP, identityOf } from './identity.js';
import { roleSigner } from './signer.js';

/**
 * The thin Lambda door of the viewer (API Gateway HTTP API, payload 2.0): the page routes need no token; the /api/*
 * routes sit behind the JWT authorizer, whose verified claims name the person. Links are signed by a session of the
 * signer role named after that person.
 *
 * Environment: ARCHIVE_BUCKET, ARCHIVE_INDEX_TABLE, ARCHIVE_AUDIT_TABLE, ARCHIVE_SIGNER_ROLE_ARN, VIEWER_OIDC_ISSUER,
 * VIEWER_OIDC_CLIENT_ID (required); VIEWER_GROUP (default vault-readers), VIEWER_GROUPS_CLAIM (default
 * cognito:groups), VIEWER_OIDC_SCOPE, VIEWER_AUTH_ORIGINS (extra origins the page signs in through, comma-separated).
 */

interface Settings {
  deps: ViewerDeps;
  group: string;
  groupsClaim: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`${name} is not set`);
  return value;
}

function settingsOf(env: NodeJS.ProcessEnv): Settings {
  const region = env.AWS_REGION?.trim() || 'us-east-1';
  const bucket = required(env, 'ARCHIVE_BUCKET');
  const issuer = required(env, 'VIEWER_OIDC_ISSUER');
  const doc = createIndexDocumentClient({ region });
  const authOrigins = [new URL(issuer).origin, ...(env.VIEWER_AUTH_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean)];
  return {
    group: env.VIEWER_GROUP?.trim() || DEFAULT_VIEWER_GROUP,
    groupsClaim: env.VIEWER_GROUPS_CLAIM?.trim() || 'cognito:groups',
    deps: {
      index: dynamoArchiveIndex(doc, required(env, 'ARCHIVE_INDEX_TABLE')),
      audit: dynamoAuditTrail(doc, required(env, 'ARCHIVE_AUDIT_TABLE')),
      sign: roleSigner({ sts: new STSClient({ region }), roleArn: required(env, 'ARCHIVE_SIGNER_ROLE_ARN'), bucket, region }),
      page: { mode: 'oidc', issuer, clientId: required(env, 'VIEWER_OIDC_CLIENT_ID'), scope: env.VIEWER_OIDC_SCOPE?.trim() || 'openid email profile' },
      linkOrigins: [`https://${bucket}.s3.${region}.amazonaws.com`],
      authOrigins: [...new Set(authOrigins)],
      log: (message, extra) => logger.info(message, extra),
    },
  };
}

let settings: Settings | undefined;

export const handler = async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
  settings ??= settingsOf(process.env);
  const claims = event.requestContext.authorizer?.jwt?.claims as Record<string, unknown> | undefined;
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const response = await handleViewerRequest(
    settings.deps,
    { method: event.requestContext.http.method, path: event.rawPath, query: event.queryStringParameters ?? {}, ...(body !== undefined ? { body } : {}) },
    identityOf(claims, settings),
  );
  return response;
};
