/**
 * IAM policy `Condition` blocks, evaluated as AWS documents them, for the operators a CloudFormation template of this
 * project can use. An operator or a feature outside this list throws UnsupportedPolicyFeature instead of guessing:
 * a check that silently skipped a condition would prove nothing.
 *
 * - Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool,
 *   Numeric(Not)Equals, NumericLessThan(Equals), NumericGreaterThan(Equals), Null.
 * - Set qualifiers `ForAllValues:` and `ForAnyValue:`; the `IfExists` suffix.
 * - A key missing from the request: positive operators are false, negated ones (`...Not...`) true, `IfExists` true,
 *   `ForAllValues:` true (AWS's documented, surprising rule), `ForAnyValue:` false.
 * - Keys are case-insensitive; values are case-sensitive except for the IgnoreCase operators and Bool.
 */

/** What a request carries for conditions: key (any case) -> one value or a set. */
export type RequestContext = Record<string, string | number | boolean | Array<string | number | boolean>>;

export type ConditionBlock = Record<string, Record<string, unknown>>;

export class UnsupportedPolicyFeature extends Error {
  override readonly name = 'UnsupportedPolicyFeature';
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^$()[\]{}|\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** ARN matching: each of the six colon-separated parts on its own, wildcards allowed in each (ArnEquals and ArnLike). */
export function arnMatches(pattern: string, arn: string): boolean {
  const parts = (s: string) => {
    const split = s.split(':');
    return [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const want = parts(pattern);
  const got = parts(arn);
  if (want.length !== got.length || !arn.startsWith('arn:')) return false;
  return want.every((p, i) => globMatches(p, got[i] ?? ''));
}

type Matcher = (requestValue: string, policyValue: string) => boolean;

const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (v, p) => v === p, negated: false },
  StringNotEquals: { match: (v, p) => v === p, negated: true },
  StringEqualsIgnoreCase: { match: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: true },
  StringLike: { match: (v, p) => globMatches(p, v), negated: false },
  StringNotLike: { match: (v, p) => globMatches(p, v), negated: true },
  ArnEquals: { match: (v, p) => arnMatches(p, v), negated: false },
  ArnLike: { match: (v, p) => arnMatches(p, v), negated: false },
  ArnNotEquals: { match: (v, p) => arnMatches(p, v), negated: true },
  ArnNotLike: { match: (v, p) => arnMatches(p, v), negated: true },
  Bool: { match: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: false },
  NumericEquals: { match: (v, p) => Number(v) === Number(p), negated: false },
  NumericNotEquals: { match: (v, p) => Number(v) === Number(p), negated: true },
  NumericLessThan: { match: (v, p) => Number(v) < Number(p), negated: false },
  NumericLessThanEquals: { match: (v, p) => Number(v) <= Number(p), negated: false },
  NumericGreaterThan: { match: (v, p) => Number(v) > Number(p), negated: false },
  NumericGreaterThanEquals: { match: (v, p) => Number(v) >= Number(p), negated: false },
};

interface ParsedOperator {
  base: string;
  set?: 'ForAllValues' | 'ForAnyValue';
  ifExists: boolean;
}

function parseOperator(operator: string): ParsedOperator {
  const [first, second] = operator.split(':');
  const set = second !== undefined ? first : undefined;
  let base = second ?? (first as string);
  if (set !== undefined && set !== 'ForAllValues' && set !== 'ForAnyValue') throw new UnsupportedPolicyFeature(`condition set qualifier ${set}`);
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  if (base !== 'Null' && !MATCHERS[base]) throw new UnsupportedPolicyFeature(`condition operator ${operator}`);
  return { base, ifExists, ...(set ? { set: set as ParsedOperator['set'] } : {}) };
}

function policyValues(raw: unknown): string[] {
  const values = Array.isArray(raw) ? raw : [raw];
  return values.map((v) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new UnsupportedPolicyFeature(`condition value ${JSON.stringify(v)}`);
    const text = String(v);
    if (text.includes('${')) throw new UnsupportedPolicyFeature(`policy variable in condition value ${text}`);
    return text;
  });
}

function lookup(context: RequestContext, key: string): string[] | undefined {
  const wanted = key.toLowerCase();
  const entry = Object.entries(context).find(([k]) => k.toLowerCase() === wanted);
  if (!entry) return undefined;
  const values = Array.isArray(entry[1]) ? entry[1] : [entry[1]];
  return values.map(String);
}

/** One operator on one key. */
function keyMatches(op: ParsedOperator, requestValues: string[] | undefined, wanted: string[]): boolean {
  if (op.base === 'Null') {
    const missing = requestValues === undefined || requestValues.length === 0;
    return wanted.some((w) => (w.toLowerCase() === 'true') === missing);
  }
  const { match, negated } = MATCHERS[op.base]!;
  const one = (value: string) => {
    const any = wanted.some((p) => match(value, p));
    return negated ? !any : any;
  };
  if (requestValues === undefined || requestValues.length === 0) {
    if (op.set === 'ForAllValues') return true;
    if (op.set === 'ForAnyValue') return false;
    return op.ifExists || negated;
  }
  if (op.set === 'ForAllValues') return requestValues.every(one);
  if (op.set === 'ForAnyValue') return requestValues.some(one);
  // A single-valued key: negated operators need no value to match, positive ones any.
  return negated ? requestValues.every(one) : requestValues.some(one);
}

/** True when every operator's every key matches (an absent block matches). */
export function conditionsMatch(block: ConditionBlock | undefined, context: RequestContext): boolean {
  if (!block) return true;
  return Object.entries(block).every(([operator, keys]) => {
    const op = parseOperator(operator);
    return Object.entries(keys).every(([key, raw]) => keyMatches(op, lookup(context, key), policyValues(raw)));
  });
}
