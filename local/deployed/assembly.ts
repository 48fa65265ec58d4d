import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TemplateResolver, type CfnResource, type CfnTemplate, type FakeAwsEnvironment } from './template.js';

/**
 * What a synthesized cloud assembly (cdk.out) would deploy, read from its files only: the stack template, resolved
 * against a fake account (template.ts), and the staged assets the assets manifest uploads. Nothing here knows this
 * project's functions by name: every function and state machine is discovered from the template.
 */

export interface DeployedFunction {
  logicalId: string;
  functionName: string;
  arn: string;
  /** The Handler string, e.g. `index.handler`. */
  handler: string;
  runtime: string;
  /** Seconds (Lambda's default 3 when the template sets none). */
  timeoutSeconds: number;
  memorySize: number;
  /** The environment variables exactly as the template sets them, resolved. */
  environment: Record<string, string>;
  /** The staged asset directory: what is zipped and uploaded as the function's code. */
  codeDir: string;
  roleLogicalId: string;
  roleArn: string;
  logGroupName: string;
}

export interface DeployedStateMachine {
  logicalId: string;
  arn: string;
  name: string;
  roleLogicalId: string;
  /** The definition Step Functions would run: DefinitionString or the uploaded DefinitionS3Location, substituted. */
  definition: string;
}

export interface DeployedStack {
  assemblyDir: string;
  template: CfnTemplate;
  resolver: TemplateResolver;
  functions: DeployedFunction[];
  stateMachines: DeployedStateMachine[];
  /** Resources of one type, with resolved properties. */
  resourcesOfType(type: string): Array<{ logicalId: string; properties: Record<string, unknown> }>;
}

export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

interface Manifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string; file?: string; stackName?: string } }>;
}

interface AssetsManifest {
  files?: Record<string, { source: { path?: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The staged source of the asset uploaded under `objectKey`. */
function assetPath(assemblyDir: string, assets: AssetsManifest, objectKey: string): string {
  for (const file of Object.values(assets.files ?? {})) {
    if (!Object.values(file.destinations).some((d) => d.objectKey === objectKey) || !file.source.path) continue;
    const source = path.resolve(assemblyDir, file.source.path);
    if (!existsSync(source)) throw new AssemblyError(`asset ${objectKey} is not staged at ${source} (was bundling skipped?)`);
    return source;
  }
  throw new AssemblyError(`no asset in the assets manifest is uploaded as ${objectKey}`);
}

/** The logical ID behind `{"Fn::GetAtt": [id, "Arn"]}`. */
function getAttTarget(value: unknown, what: string): string {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (!Array.isArray(getAtt) || typeof getAtt[0] !== 'string') throw new AssemblyError(`${what} is not a Fn::GetAtt of a resource in the stack`);
  return getAtt[0];
}

function deployedFunction(stack: { resolver: TemplateResolver; assemblyDir: string; assets: AssetsManifest }, logicalId: string, resource: CfnResource): DeployedFunction {
  const { resolver } = stack;
  const props = resource.Properties ?? {};
  const code = resolver.resolve(props.Code) as { S3Key?: string; ZipFile?: string };
  if (!code.S3Key) throw new AssemblyError(`${logicalId}: only asset code (Code.S3Key) can be run`);
  const codeDir = assetPath(stack.assemblyDir, stack.assets, code.S3Key);
  if (!statSync(codeDir).isDirectory()) throw new AssemblyError(`${logicalId}: asset ${codeDir} is not a directory`);
  const roleLogicalId = getAttTarget(props.Role, `${logicalId}.Role`);
  const functionName = resolver.ref(logicalId);
  const logging = resolver.resolve(props.LoggingConfig) as { LogGroup?: string } | undefined;
  return {
    logicalId,
    functionName,
    arn: resolver.getAtt(logicalId, 'Arn'),
    handler: resolver.text(props.Handler) ?? 'index.handler',
    runtime: resolver.text(props.Runtime) ?? '',
    timeoutSeconds: Number(resolver.resolve(props.Timeout) ?? 3),
    memorySize: Number(resolver.resolve(props.MemorySize) ?? 128),
    environment: (resolver.resolve((props.Environment as { Variables?: unknown } | undefined)?.Variables) ?? {}) as Record<string, string>,
    codeDir,
    roleLogicalId,
    roleArn: resolver.getAtt(roleLogicalId, 'Arn'),
    logGroupName: logging?.LogGroup ?? `/aws/lambda/${functionName}`,
  };
}

function deployedStateMachine(stack: { resolver: TemplateResolver; assemblyDir: string; assets: AssetsManifest }, logicalId: string, resource: CfnResource): DeployedStateMachine {
  const { resolver } = stack;
  const props = resource.Properties ?? {};
  let definition: string;
  if (props.DefinitionString !== undefined) definition = resolver.text(props.DefinitionString) as string;
  else if (props.DefinitionS3Location !== undefined) {
    const location = resolver.resolve(props.DefinitionS3Location) as { Key: string };
    definition = readFileSync(assetPath(stack.assemblyDir, stack.assets, location.Key), 'utf8');
  } else if (props.Definition !== undefined) definition = JSON.stringify(resolver.resolve(props.Definition));
  else throw new AssemblyError(`${logicalId} has no definition`);
  const substitutions = (resolver.resolve(props.DefinitionSubstitutions) ?? {}) as Record<string, unknown>;
  // Step Functions replaces each ${key} that has a substitution; other text stays as written.
  definition = definition.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key in substitutions ? String(substitutions[key]) : whole));
  return {
    logicalId,
    arn: resolver.ref(logicalId),
    name: resolver.getAtt(logicalId, 'Name'),
    roleLogicalId: getAttTarget(props.RoleArn, `${logicalId}.RoleArn`),
    definition,
  };
}

/** Reads the one stack of a cloud assembly (or `stackName`) and resolves it against `env`. */
export function loadDeployedStack(assemblyDir: string, env: Omit<FakeAwsEnvironment, 'stackName'>, stackName?: string): DeployedStack {
  const manifest = readJson<Manifest>(path.join(assemblyDir, 'manifest.json'));
  const artifacts = Object.entries(manifest.artifacts ?? {});
  const stacks = artifacts.filter(([id, a]) => a.type === 'aws:cloudformation:stack' && (!stackName || (a.properties?.stackName ?? id) === stackName));
  if (stacks.length !== 1) throw new AssemblyError(`expected one stack in ${assemblyDir}, found ${stacks.length}`);
  const [artifactId, artifact] = stacks[0]!;
  const template = readJson<CfnTemplate>(path.join(assemblyDir, artifact.properties?.templateFile ?? ''));
  const assetsArtifact = artifacts.find(([id, a]) => a.type === 'cdk:asset-manifest' && id.startsWith(`${artifactId}.assets`));
  const assets = assetsArtifact ? readJson<AssetsManifest>(path.join(assemblyDir, assetsArtifact[1].properties?.file ?? '')) : {};
  return fromTemplate(template, { ...env, stackName: artifact.properties?.stackName ?? artifactId }, assemblyDir, assets);
}

/** The same view over a template object (a test may mutate a copy of the synthesized one). */
export function fromTemplate(template: CfnTemplate, env: FakeAwsEnvironment, assemblyDir: string, assets: AssetsManifest = {}): DeployedStack {
  const resolver = new TemplateResolver(template, env);
  const stack = { resolver, assemblyDir, assets };
  const entries = Object.entries(template.Resources);
  const lazy = <T>(type: string, build: (id: string, r: CfnResource) => T) => entries.filter(([, r]) => r.Type === type).map(([id, r]) => build(id, r));
  return {
    assemblyDir,
    template,
    resolver,
    functions: lazy('AWS::Lambda::Function', (id, r) => deployedFunction(stack, id, r)),
    stateMachines: lazy('AWS::StepFunctions::StateMachine', (id, r) => deployedStateMachine(stack, id, r)),
    resourcesOfType: (type) => lazy(type, (logicalId, r) => ({ logicalId, properties: (resolver.resolve(r.Properties ?? {}) ?? {}) as Record<string, unknown> })),
  };
}
