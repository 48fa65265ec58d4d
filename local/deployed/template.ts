import { createHash } from 'node:crypto';

/**
 * Resolves a synthesized CloudFormation template's intrinsic functions against one fake account and region, the way
 * CloudFormation would have at deploy time, so that environment variables, IAM policies, resource policies and the
 * state machine's substitutions all name the same ARNs.
 *
 * Supported: Ref (resources, parameters' defaults, pseudo parameters), Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split. Physical names are deterministic per logical ID (or the name the template sets), in the formats AWS
 * uses for each resource type below; anything else throws UnresolvableIntrinsic rather than inventing a value.
 */

export interface FakeAwsEnvironment {
  account: string;
  region: string;
  partition: string;
  stackName: string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export class UnresolvableIntrinsic extends Error {
  override readonly name = 'UnresolvableIntrinsic';
}

const hex = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

type Namer = (r: TemplateResolver, id: string, props: Record<string, unknown>) => { ref: string; attrs: Record<string, string> };

const arn = (r: TemplateResolver, service: string, resource: string, region = r.env.region, account = r.env.account) =>
  `arn:${r.env.partition}:${service}:${region}:${account}:${resource}`;

/** Ref and attributes per resource type: the formats AWS gives them. */
const NAMERS: Record<string, Namer> = {
  'AWS::S3::Bucket': (r, id, p) => {
    const name = r.text(p.BucketName) ?? `${r.env.stackName}-${id}`.toLowerCase().slice(0, 63);
    return { ref: name, attrs: { Arn: `arn:${r.env.partition}:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } };
  },
  'AWS::KMS::Key': (r, id) => {
    const h = hex(id, 32);
    const keyId = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    return { ref: keyId, attrs: { Arn: arn(r, 'kms', `key/${keyId}`), KeyId: keyId } };
  },
  'AWS::DynamoDB::Table': (r, id, p) => {
    const name = r.text(p.TableName) ?? `${r.env.stackName}-${id}`;
    return { ref: name, attrs: { Arn: arn(r, 'dynamodb', `table/${name}`) } };
  },
  'AWS::SecretsManager::Secret': (r, id, p) => {
    const secretArn = arn(r, 'secretsmanager', `secret:${r.text(p.Name) ?? id}-${hex(id, 6)}`);
    return { ref: secretArn, attrs: { Id: secretArn } };
  },
  'AWS::Lambda::Function': (r, id, p) => {
    const name = r.text(p.FunctionName) ?? `${r.env.stackName}-${id}`.slice(0, 64);
    return { ref: name, attrs: { Arn: arn(r, 'lambda', `function:${name}`) } };
  },
  'AWS::IAM::Role': (r, id, p) => {
    const name = r.text(p.RoleName) ?? `${r.env.stackName}-${id}`.slice(0, 64);
    return { ref: name, attrs: { Arn: `arn:${r.env.partition}:iam::${r.env.account}:role/${name}`, RoleId: `AROA${hex(id, 17).toUpperCase()}` } };
  },
  'AWS::StepFunctions::StateMachine': (r, id, p) => {
    const name = r.text(p.StateMachineName) ?? `${id}-${hex(id, 12)}`;
    const machineArn = arn(r, 'states', `stateMachine:${name}`);
    return { ref: machineArn, attrs: { Arn: machineArn, Name: name } };
  },
  'AWS::Logs::LogGroup': (r, id, p) => {
    const name = r.text(p.LogGroupName) ?? `${r.env.stackName}-${id}-${hex(id, 12)}`;
    return { ref: name, attrs: { Arn: arn(r, 'logs', `log-group:${name}:*`) } };
  },
  'AWS::SNS::Topic': (r, id, p) => {
    const topicArn = arn(r, 'sns', r.text(p.TopicName) ?? `${r.env.stackName}-${id}`);
    return { ref: topicArn, attrs: { TopicArn: topicArn, TopicName: topicArn.split(':').pop() as string } };
  },
  'AWS::Events::Rule': (r, id, p) => {
    const name = r.text(p.Name) ?? `${r.env.stackName}-${id}`.slice(0, 64);
    return { ref: name, attrs: { Arn: arn(r, 'events', `rule/${name}`) } };
  },
  'AWS::ApiGatewayV2::Api': (r, id) => {
    const apiId = hex(id, 10);
    return { ref: apiId, attrs: { ApiId: apiId, ApiEndpoint: `https://${apiId}.execute-api.${r.env.region}.amazonaws.com` } };
  },
};

export class TemplateResolver {
  private readonly names = new Map<string, { ref: string; attrs: Record<string, string> }>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: FakeAwsEnvironment,
  ) {}

  get stackId(): string {
    const h = hex(this.env.stackName, 32);
    return arn(this, 'cloudformation', `stack/${this.env.stackName}/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
  }

  /** A template value resolved to plain JSON (strings, numbers, arrays, objects). */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, args] = entries[0]!;
      if (fn === 'Ref' || fn.startsWith('Fn::')) return this.intrinsic(fn, args);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  /** A property that must be a string once resolved; undefined when absent. */
  text(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new UnresolvableIntrinsic(`expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  ref(name: string): string {
    const pseudo = this.pseudo(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter) return String(parameter.Default ?? '');
    return this.physical(name).ref;
  }

  getAtt(logicalId: string, attribute: string): string {
    const value = this.physical(logicalId).attrs[attribute];
    if (value === undefined) throw new UnresolvableIntrinsic(`Fn::GetAtt ${logicalId}.${attribute} (${this.resourceOf(logicalId).Type})`);
    return value;
  }

  private resourceOf(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new UnresolvableIntrinsic(`no resource ${logicalId}`);
    return resource;
  }

  private physical(logicalId: string) {
    const known = this.names.get(logicalId);
    if (known) return known;
    const resource = this.resourceOf(logicalId);
    if (this.resolving.has(logicalId)) throw new UnresolvableIntrinsic(`${logicalId} refers to itself`);
    this.resolving.add(logicalId);
    try {
      const namer = NAMERS[resource.Type];
      const named = namer ? namer(this, logicalId, resource.Properties ?? {}) : { ref: `${this.env.stackName}-${logicalId}`, attrs: {} };
      this.names.set(logicalId, named);
      return named;
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  private pseudo(name: string): string | undefined {
    const values: Record<string, () => string> = {
      'AWS::AccountId': () => this.env.account,
      'AWS::Region': () => this.env.region,
      'AWS::Partition': () => this.env.partition,
      'AWS::URLSuffix': () => 'amazonaws.com',
      'AWS::StackName': () => this.env.stackName,
      'AWS::StackId': () => this.stackId,
    };
    return values[name]?.();
  }

  private intrinsic(fn: string, args: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return args === 'AWS::NoValue' ? NO_VALUE : this.ref(String(args));
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(args) ? args.map(String) : String(args).split(/\.(.*)/s);
        return this.getAtt(id as string, attribute as string);
      }
      case 'Fn::Join': {
        const [separator, items] = args as [string, unknown[]];
        return (this.resolve(items) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = args as [unknown, unknown];
        const resolved = this.resolve(items) as unknown[];
        const item = resolved[Number(this.resolve(index))];
        if (item === undefined) throw new UnresolvableIntrinsic(`Fn::Select ${JSON.stringify(index)} out of range`);
        return item;
      }
      case 'Fn::Split': {
        const [separator, source] = args as [string, unknown];
        return String(this.resolve(source)).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(args);
      default:
        throw new UnresolvableIntrinsic(`${fn} is not supported by the local resolver`);
    }
  }

  private sub(args: unknown): string {
    const [text, variables] = Array.isArray(args) ? (args as [string, Record<string, unknown>]) : [String(args), {}];
    return text.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.ref(name);
    });
  }
}

/** AWS::NoValue: the property or list item disappears. */
const NO_VALUE = Symbol('AWS::NoValue');
