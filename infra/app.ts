import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readVaultConfig } from './config.js';
import { AttachmentVaultStack } from './stack.js';

/**
 * Builds the app: one stack, configured from CDK context, checked by cdk-nag's AwsSolutions pack on every
 * synth (cdk-nag 3 is a policy-validation plugin: an unacknowledged error fails the synth, and every finding
 * lands in cdk.out/policy-validation-report.json). Tests build the app through this function too.
 *
 * Account and region come from the CLI's environment (CDK_DEFAULT_ACCOUNT/REGION) when known; otherwise the
 * stack is environment-agnostic. Nothing is looked up, so `cdk synth` works offline without credentials.
 */
export function createVaultApp(props: AppProps = {}): { app: App; stack: AttachmentVaultStack } {
  const app = new App(props);
  const config = readVaultConfig((key) => app.node.tryGetContext(key));
  const stack = new AttachmentVaultStack(app, config.stackName, {
    config,
    description: 'attachment-vault: archive Zendesk ticket attachments to encrypted S3, verify, then redact',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

// Run by the CDK CLI (cdk.json "app"), which sets CDK_OUTDIR; importing this module builds nothing.
if (process.env.CDK_OUTDIR) createVaultApp().app.synth();
