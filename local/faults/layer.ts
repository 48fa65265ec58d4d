import type { Fault, FaultPlan, FaultRule, RequestFacts } from './types.js';

/** One rule as the layer tracks it: how often it matched and how often it fired. */
export class ArmedRule {
  matched = 0;
  fired = 0;

  constructor(readonly rule: FaultRule) {}

  get name(): string | undefined {
    return this.rule.name;
  }

  /** True once the rule has fired `times` times. */
  get exhausted(): boolean {
    return this.fired >= (this.rule.match.times ?? 1);
  }

  matches(facts: RequestFacts): boolean {
    const { method, route } = this.rule.match;
    if (method && method.toUpperCase() !== facts.method.toUpperCase()) return false;
    if (route === undefined) return true;
    if (typeof route === 'string') return route === facts.route;
    const path = facts.target.split('?', 1)[0] ?? facts.target;
    route.lastIndex = 0;
    if (route.test(path)) return true;
    route.lastIndex = 0;
    return route.test(facts.target);
  }
}

export interface FiredFault {
  fault: Fault;
  /** The rule that fired; none when the layer's chooser decided. */
  rule?: ArmedRule;
}

/**
 * Decides the fault of a request that no rule took, or none (undefined): faults drawn per request, e.g. from a seed
 * (the soak). Called once per request, in arrival order.
 */
export type FaultChooser = (facts: RequestFacts) => Fault | undefined;

/**
 * A run-time list of fault rules. Every rule whose match fits a request counts the match; the first rule that is
 * past its `after` and not yet exhausted fires. Rules can be added and cleared while servers run.
 */
export class FaultLayer {
  #rules: ArmedRule[] = [];
  #chooser: FaultChooser | undefined;

  constructor(plan: FaultPlan = []) {
    for (const rule of plan) this.add(rule);
  }

  add(rule: FaultRule): ArmedRule {
    validateRule(rule);
    const armed = new ArmedRule(rule);
    this.#rules.push(armed);
    return armed;
  }

  /** Removes every rule (and with them their counters) and the chooser. */
  clear(): void {
    this.#rules = [];
    this.#chooser = undefined;
  }

  /** Consults `chooser` for every request no rule takes (undefined: no chooser). */
  choose(chooser: FaultChooser | undefined): void {
    this.#chooser = chooser;
  }

  get rules(): readonly ArmedRule[] {
    return this.#rules;
  }

  /** How many times each rule fired, in the order the rules were added. */
  firedCounts(): number[] {
    return this.#rules.map((r) => r.fired);
  }

  /** Total faults injected so far. */
  get totalFired(): number {
    return this.#rules.reduce((sum, r) => sum + r.fired, 0);
  }

  /** Decides (and records) the fault for one request, if any. */
  take(facts: RequestFacts): FiredFault | undefined {
    let chosen: ArmedRule | undefined;
    for (const rule of this.#rules) {
      if (!rule.matches(facts)) continue;
      rule.matched += 1;
      if (chosen || rule.exhausted || rule.matched <= (rule.rule.match.after ?? 0)) continue;
      chosen = rule;
    }
    if (!chosen) {
      const fault = this.#chooser?.(facts);
      if (!fault) return undefined;
      validateRule({ match: {}, fault });
      return { fault };
    }
    chosen.fired += 1;
    return { fault: chosen.rule.fault, rule: chosen };
  }
}

function validateRule(rule: FaultRule): void {
  const { times = 1, after = 0 } = rule.match;
  if (!(times >= 0) || !(after >= 0)) throw new RangeError('fault rule: times and after must be >= 0');
  const f = rule.fault;
  const bad = (what: string): never => {
    throw new RangeError(`fault rule (${f.kind}): ${what}`);
  };
  switch (f.kind) {
    case 'status':
      if (!Number.isInteger(f.status) || f.status < 100 || f.status > 599) bad('status must be 100..599');
      break;
    case 'delay':
    case 'stall':
      if (!(f.ms >= 0)) bad('ms must be >= 0');
      if (f.kind === 'stall' && f.afterBytes !== undefined && !(f.afterBytes >= 0)) bad('afterBytes must be >= 0');
      break;
    case 'truncate':
      if (!(f.afterBytes >= 0)) bad('afterBytes must be >= 0');
      break;
    case 'lengthMismatch':
      if (!Number.isInteger(f.extraBytes) || f.extraBytes === 0) bad('extraBytes must be a non-zero integer');
      break;
    case 'reset':
      break;
  }
}
