import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Lists the Lambda bundles of a synthesized cloud assembly with their sizes. Run after `cdk synth`:
 *   tsx infra/list-bundles.ts [cdk.out]
 */

export interface BundleInfo {
  logicalId: string;
  /** Construct path of the function (AttachmentVault/Workflow/CopyAttachment/Function), or its logical ID when the assembly has no path metadata. */
  functionPath: string;
  assetDir: string;
  handlerFile: string;
  handlerBytes: number;
  sourceMapBytes: number;
}

interface Manifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
}
interface TemplateResource {
  Type: string;
  Properties?: { Handler?: string; Code?: { S3Key?: unknown } };
  Metadata?: Record<string, unknown>;
}

export function listBundles(assemblyDir: string): BundleInfo[] {
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as Manifest;
  const bundles: BundleInfo[] = [];
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    const template = JSON.parse(readFileSync(path.join(assemblyDir, templateFile), 'utf8')) as {
      Resources?: Record<string, TemplateResource>;
    };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const assetDir = assetDirOf(assemblyDir, resource);
      if (!assetDir) continue;
      const module = (resource.Properties?.Handler ?? 'index.handler').split('.')[0] as string;
      const handlerName = ['.mjs', '.js', '.cjs'].map((ext) => module + ext).find((f) => existsSync(path.join(assetDir, f)));
      if (!handlerName) continue;
      const handlerPath = path.join(assetDir, handlerName);
      const mapPath = `${handlerPath}.map`;
      const cdkPath = resource.Metadata?.['aws:cdk:path'];
      bundles.push({
        logicalId,
        functionPath: typeof cdkPath === 'string' ? cdkPath.replace(/\/Resource$/, '') : logicalId,
        assetDir: path.basename(assetDir),
        handlerFile: handlerName,
        handlerBytes: statSync(handlerPath).size,
        sourceMapBytes: existsSync(mapPath) ? statSync(mapPath).size : 0,
      });
    }
  }
  return bundles.sort((a, b) => a.functionPath.localeCompare(b.functionPath));
}

/** The staged asset directory: from asset metadata, else from the S3 key (`<hash>.zip` -> `asset.<hash>`). */
function assetDirOf(assemblyDir: string, resource: TemplateResource): string | undefined {
  const candidates: string[] = [];
  const metadataPath = resource.Metadata?.['aws:asset:path'];
  if (typeof metadataPath === 'string') candidates.push(path.resolve(assemblyDir, metadataPath));
  const key = resource.Properties?.Code?.S3Key;
  if (typeof key === 'string') candidates.push(path.join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`));
  return candidates.find((dir) => existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).length > 0);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function main(assemblyDir: string): void {
  const bundles = listBundles(assemblyDir);
  if (bundles.length === 0) {
    console.error(`No Lambda bundles found in ${assemblyDir} (run cdk synth first; bundling may have been skipped).`);
    process.exitCode = 1;
    return;
  }
  const width = Math.max(...bundles.map((b) => b.functionPath.length));
  console.log(`${'Function'.padEnd(width)}  ${'Handler'.padStart(12)}  ${'Source map'.padStart(12)}  Asset`);
  for (const b of bundles) {
    console.log(`${b.functionPath.padEnd(width)}  ${kib(b.handlerBytes).padStart(12)}  ${kib(b.sourceMapBytes).padStart(12)}  ${b.assetDir}/${b.handlerFile}`);
  }
  const total = bundles.reduce((sum, b) => sum + b.handlerBytes, 0);
  console.log(`${bundles.length} bundles, ${kib(total)} of handler code`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(path.resolve(process.argv[2] ?? 'cdk.out'));
}
