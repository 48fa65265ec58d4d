import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createVaultApp } from '../../infra/app.js';
import { listBundles, type BundleInfo } from '../../infra/list-bundles.js';
import { cdkJsonContext, logicalId, synthVault, type VaultSynth } from './support/vault.js';

/**
 * The synthesis `npm run synth` performs: cdk.json's context unchanged (placeholder subdomain included),
 * esbuild really bundling all seven Lambdas, and cdk-nag's AwsSolutions pack registered by createVaultApp.
 */
let vault: VaultSynth;
let bundles: BundleInfo[];
/** What the synth printed to stderr: CDK prints the validation report there, as `cdk synth` shows it. */
let printed: string;

beforeAll(() => {
  const stderr = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    vault = synthVault({ bundle: true, context: { zendeskSubdomain: cdkJsonContext().zendeskSubdomain } });
  } finally {
    printed = stderr.mock.calls.flat().join('\n');
    stderr.mockRestore();
  }
  bundles = listBundles(vault.assembly.directory);
});

afterAll(() => vault?.cleanup());

/** Every `Validations.of(x).acknowledge()` in the app: rule id -> reasons. */
function acknowledgements(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        found.set(rule, [...(found.get(rule) ?? []), reason]);
      }
    }
  }
  return found;
}

/** cdk-nag with acknowledgements ignored: what the rules find before anyone explains them. */
function rawFindings(root: IConstruct): Set<string> {
  const pack = new AwsSolutionsChecks();
  // isAcknowledged is cdk-nag 3.0.2's private per-finding check; shadowing it on this instance disables it.
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return new Set(pack.validateScope(root).violations.map((v) => v.ruleName));
}

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged finding, error or warning, in the synth’s validation report', () => {
    const nag = vault.report.pluginReports.filter((r) => r.pluginName.includes('AwsSolutions'));
    expect(nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`))).toEqual([]);
  });

  it('finds nothing unacknowledged when run directly over the app', () => {
    const report = new AwsSolutionsChecks().validateScope(vault.stack.node.root);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(' ')}`)).toEqual([]);
  });

  it('every acknowledgement answers a real finding, and every finding has one with a reason', () => {
    const acks = acknowledgements(vault.stack.node.root);
    const nagAcks = [...acks.keys()].filter((id) => id.startsWith('AwsSolutions-')).sort();
    expect(nagAcks).toEqual([...rawFindings(vault.stack.node.root)].sort());
    for (const [id, reasons] of acks) for (const reason of reasons) expect([id, reason.length >= 40]).toEqual([id, true]);
  });

  it('is registered by createVaultApp: an unacknowledged finding fails the synth', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'vault-cdk-'));
    const { app, stack } = createVaultApp({ outdir, context: { ...cdkJsonContext(), zendeskSubdomain: 'acme', 'aws:cdk:bundling-stacks': [] } });
    new Bucket(stack, 'UnloggedBucket');
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('placeholder settings', () => {
  it('warns while zendeskSubdomain is still the cdk.json placeholder, and prints nothing from cdk-nag', () => {
    const warnings = vault.report.pluginReports.flatMap((r) => r.violations).filter((v) => v.severity === 'warning');
    expect(warnings.map((v) => v.ruleName)).toEqual(['Annotation::attachment-vault:placeholderZendesk']);
    expect(printed).toContain('zendeskSubdomain is the placeholder "example"');
    expect(printed).not.toContain('AwsSolutions');
  });
});

describe('Lambda bundles (esbuild, local)', () => {
  it('builds all twelve', () => {
    const { backfill } = vault.stack;
    const functions = [...Object.values(vault.stack.workflow.steps), vault.stack.workflow.release, vault.stack.ingress.webhook, vault.stack.viewer.fn, backfill.select, backfill.lookUp, backfill.summarize].map((step) => logicalId(step.fn));
    expect(bundles.map((b) => b.logicalId).sort()).toEqual(functions.sort());
  });

  it('are minified ESM with the createRequire banner, a source map, the AWS SDK inside and a handler export', () => {
    for (const bundle of bundles) {
      const code = readFileSync(path.join(vault.assembly.directory, bundle.assetDir, bundle.handlerFile), 'utf8');
      expect([bundle.functionPath, bundle.handlerFile]).toEqual([bundle.functionPath, 'index.mjs']);
      expect(code.startsWith("import { createRequire as topLevelCreateRequire } from 'module';")).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code).toContain('//# sourceMappingURL=index.mjs.map');
      expect(bundle.sourceMapBytes).toBeGreaterThan(0);
      // Far below Lambda's 250 MB unzipped limit; a jump here means a dependency went wrong.
      expect([bundle.functionPath, bundle.handlerBytes < 5 * 1024 * 1024]).toEqual([bundle.functionPath, true]);
    }
  });
});
