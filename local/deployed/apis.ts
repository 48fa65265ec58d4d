import type { DeployedStack } from './assembly.js';
import { HarnessConfigurationError } from './errors.js';
import type { JwtAuthorizerConfig } from './jwt.js';
import type { FakeAwsEnvironment } from './template.js';

/**
 * The template's HTTP APIs (AWS::ApiGatewayV2::Api with their Stage, Routes, Integrations and Authorizers), as the
 * harness serves them: each route's Lambda proxy integration (payload 2.0), the source ARN API Gateway invokes it
 * with, and its JWT authorizer. What the harness cannot serve (WebSocket APIs, an OpenAPI body, other integration
 * types, IAM or Lambda authorizers, an API without a stage) fails with HarnessConfigurationError.
 */

export interface DeployedRoute {
  routeKey: string;
  functionArn: string;
  /** What API Gateway passes as the source ARN: `arn:…:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD><path>`. */
  sourceArn: string;
  jwt?: JwtAuthorizerConfig & { identitySource: string };
}

export interface DeployedAuthorizer {
  logicalId: string;
  issuer: string;
  audience: string[];
}

export interface DeployedHttpApi {
  logicalId: string;
  apiId: string;
  stage: string;
  routes: DeployedRoute[];
  authorizers: DeployedAuthorizer[];
}

type Props = Record<string, unknown>;

function authorizersOf(stack: DeployedStack, apiId: string): Array<DeployedAuthorizer & { id: string; identitySource: string }> {
  return stack
    .resourcesOfType('AWS::ApiGatewayV2::Authorizer')
    .filter(({ properties }) => properties.ApiId === apiId)
    .map(({ logicalId, properties }) => {
      if (properties.AuthorizerType !== 'JWT') throw new HarnessConfigurationError(`authorizer ${logicalId}: only JWT authorizers are served (${String(properties.AuthorizerType)})`);
      const jwt = properties.JwtConfiguration as { Issuer?: string; Audience?: string[] } | undefined;
      const sources = (properties.IdentitySource as string[] | undefined) ?? ['$request.header.Authorization'];
      if (!jwt?.Issuer || sources.length !== 1) throw new HarnessConfigurationError(`authorizer ${logicalId}: a JWT authorizer needs an issuer and one identity source`);
      return { logicalId, id: stack.resolver.ref(logicalId), issuer: jwt.Issuer, audience: jwt.Audience ?? [], identitySource: sources[0]! };
    });
}

function routeOf(props: Props, context: { integrations: Map<string, Props>; authorizers: ReturnType<typeof authorizersOf>; arnPrefix: string }): DeployedRoute {
  const routeKey = String(props.RouteKey);
  const integration = context.integrations.get(String(props.Target).replace(/^integrations\//, '')) ?? {};
  if (integration.IntegrationType !== 'AWS_PROXY' || integration.PayloadFormatVersion !== '2.0') throw new HarnessConfigurationError(`${routeKey}: only Lambda proxy integrations with payload 2.0 are served`);
  const type = (props.AuthorizationType as string | undefined) ?? 'NONE';
  if (type !== 'NONE' && type !== 'JWT') throw new HarnessConfigurationError(`${routeKey}: authorization ${type} is not served`);
  const [method, path] = routeKey.split(' ');
  const route: DeployedRoute = { routeKey, functionArn: String(integration.IntegrationUri), sourceArn: `${context.arnPrefix}/${method}${path ?? ''}` };
  if (type === 'JWT') {
    const authorizer = context.authorizers.find((a) => a.id === props.AuthorizerId);
    if (!authorizer) throw new HarnessConfigurationError(`${routeKey}: its authorizer ${String(props.AuthorizerId)} is not in the template`);
    route.jwt = { issuer: authorizer.issuer, audience: authorizer.audience, identitySource: authorizer.identitySource, scopes: (props.AuthorizationScopes as string[] | undefined) ?? [] };
  }
  return route;
}

/** Every HTTP API of the stack. */
export function httpApisOf(stack: DeployedStack, aws: Omit<FakeAwsEnvironment, 'stackName'>): DeployedHttpApi[] {
  return stack.resourcesOfType('AWS::ApiGatewayV2::Api').map(({ logicalId, properties }) => {
    if (properties.ProtocolType !== 'HTTP' || properties.Body !== undefined || properties.BodyS3Location !== undefined) {
      throw new HarnessConfigurationError(`${logicalId}: only HTTP APIs defined by their routes are served`);
    }
    const apiId = stack.resolver.ref(logicalId);
    const ofApi = (type: string) => stack.resourcesOfType(type).filter((r) => r.properties.ApiId === apiId);
    const stages = ofApi('AWS::ApiGatewayV2::Stage');
    if (stages.length !== 1) throw new HarnessConfigurationError(`${logicalId}: the harness serves an API's one stage; it has ${stages.length}`);
    const stage = String(stages[0]!.properties.StageName ?? '$default');
    const integrations = new Map(ofApi('AWS::ApiGatewayV2::Integration').map((i) => [stack.resolver.ref(i.logicalId), i.properties]));
    const authorizers = authorizersOf(stack, apiId);
    const arnPrefix = `arn:${aws.partition}:execute-api:${aws.region}:${aws.account}:${apiId}/${stage}`;
    const routes = ofApi('AWS::ApiGatewayV2::Route').map(({ properties: props }) => routeOf(props, { integrations, authorizers, arnPrefix }));
    return { logicalId, apiId, stage, routes, authorizers: authorizers.map(({ logicalId: id, issuer, audience }) => ({ logicalId: id, issuer, audience })) };
  });
}
