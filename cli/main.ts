import { parseArgs } from 'node:util';
import { ticketIdOf } from '../lambdas/shared/ids.js';
import { ARCHIVE_USAGE } from './archive-usage.js';
import { flushStdout, printJson, printLine, reserveStdout, UsageError } from './output.js';

const USAGE = `Usage:
  attachment-vault demo                         the whole workflow on embedded defaults (what npm start runs)
  attachment-vault run --ticket <id>            run one execution in the local engine; prints one JSON document
  attachment-vault serve [--port 8787] [--host 127.0.0.1]
                                                receive Zendesk webhooks on POST /webhooks/zendesk
  attachment-vault zendesk setup --webhook-url <url> [--dry-run] [--secret-id <id|arn> | --print-secret]
                                 [--request-tag vault_archive] [--processing-tag vault_processing]
                                                create or update the Zendesk webhook and trigger (idempotent)
  attachment-vault executions list [--status FAILED|SUCCEEDED|RUNNING|ABORTED|TIMED_OUT] [--since 7d|12h|30m]
                                   [--limit 100] [--json] [--local]
  attachment-vault executions show <name|arn> [--json] [--local]
                                                the path through the states, retries, errors, per-file outcomes
  attachment-vault executions redrive <name|arn> [--local]
                                                resume a failed execution where it failed (AWS only)
  attachment-vault rerun --ticket <id> [--local]
                                                a new execution for the ticket
  attachment-vault rerun --failed [--since 7d] [--starts-per-minute 30] [--local]
                                                a new execution for every ticket whose latest execution in the window
                                                failed, timed out or was aborted (at a bounded pace); prints a summary
  attachment-vault backfill [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--query "<terms>"] [--max-concurrency 10]
                            [--dry-run]         the whole backfill in the local engine; prints one JSON document
  attachment-vault backfill start [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--query "<terms>"] [--max-concurrency N]
                                                start the deployed backfill; prints its runId, execution and console link
  attachment-vault backfill status <runId> [--watch] [--json]
                                                tickets done / failed / remaining, requests used, ETA
  attachment-vault backfill throttle <runId> --max-concurrency N
                                                change how many tickets the running backfill runs at once
  attachment-vault backfill redrive <runId>     resume a failed backfill (its Map Run: failed items run again)
${ARCHIVE_USAGE}
  attachment-vault viewer [--port 8788]         the archive viewer on 127.0.0.1, with a local sign-in stand-in

Environment: ZENDESK_URL, ZENDESK_EMAIL + ZENDESK_API_TOKEN or ZENDESK_OAUTH_CLIENT_ID + ZENDESK_OAUTH_CLIENT_SECRET,
ZENDESK_CONTENT_HOSTS, ARCHIVE_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE, NOTIFY_WEBHOOK_URL,
NOTIFY_FORMAT, ZENDESK_WEBHOOK_SECRET. Without ZENDESK_URL the embedded sandbox Zendesk and S3 are used
(zendesk setup needs ZENDESK_URL). executions/rerun use the deployed state machine (STATE_MACHINE_ARN or
--state-machine-arn, AWS credentials as for the AWS CLI), or with --local the local engine's histories in
ATTACHMENT_VAULT_DATA_DIR (default .local). backfill start|status|throttle|redrive use the deployed backfill
(BACKFILL_STATE_MACHINE_ARN or --state-machine-arn; BACKFILL_MAX_CONCURRENCY, ZENDESK_BUDGET_TABLE: the stack's
outputs). archive uses the deployed archive (ARCHIVE_BUCKET, ARCHIVE_INDEX_TABLE,
ARCHIVE_AUDIT_TABLE, ARCHIVE_SIGNER_ROLE_ARN, ARCHIVE_ERASER_ROLE_ARN, ARCHIVE_READER_ROLE_ARN), or with --local (and
viewer) the one under ATTACHMENT_VAULT_DATA_DIR, where the actor is ATTACHMENT_VAULT_ACTOR or the OS user.
Exit codes: 0 succeeded, 1 failed, 2 usage or configuration error.`;

const CONFIG_ERRORS = new Set(['UsageError', 'ConfigurationError', 'LocalConfigurationError']);

function ticketOf(value: string | undefined): string {
  const ticketId = ticketIdOf(value);
  if (!ticketId) throw new UsageError('--ticket <id> is required: the Zendesk ticket ID (digits, no leading zero)');
  return ticketId;
}

function stderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** One local execution (run or rerun) with a live copy-progress line when stderr is a terminal. */
async function runLocally(ticketId: string, source: 'cli' | 'rerun'): Promise<number> {
  const { openLocal } = await import('../local/runtime/local.js');
  const { runTicket } = await import('./run.js');
  const { copyProgress } = await import('./progress.js');
  const onEvent = copyProgress(process.stderr);
  const runtime = await openLocal(onEvent ? { onEvent } : {});
  try {
    const document = await runTicket(runtime, ticketId, source);
    printJson(document);
    return document.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

async function zendesk(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'setup') throw new UsageError(sub ? `Unknown command "zendesk ${sub}"` : 'zendesk needs a command: setup');
  const { tagConfig, zendeskSettings } = await import('../lambdas/shared/config.js');
  const defaults = tagConfig(process.env);
  const { values } = parseArgs({
    args: rest,
    options: {
      'webhook-url': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'secret-id': { type: 'string' },
      'print-secret': { type: 'boolean', default: false },
      'request-tag': { type: 'string', default: defaults.request },
      'processing-tag': { type: 'string', default: defaults.processing },
    },
    strict: true,
  });
  if (!values['webhook-url']) throw new UsageError('--webhook-url <url> is required: the deployed WebhookUrl output, or your `serve` URL');
  const { zendeskSetup, validateSetupOptions } = await import('./zendesk-setup.js');
  const options = {
    webhookUrl: values['webhook-url'],
    dryRun: values['dry-run'],
    ...(values['secret-id'] !== undefined ? { secretId: values['secret-id'] } : {}),
    printSecret: values['print-secret'],
    requestTag: values['request-tag'] ?? defaults.request,
    processingTag: values['processing-tag'] ?? defaults.processing,
  };
  validateSetupOptions(options);
  const { createZendeskAdmin } = await import('./zendesk-admin.js');
  const { credentialsFromEnv } = await import('../lambdas/shared/zendesk/credentials.js');
  const admin = createZendeskAdmin({ baseUrl: zendeskSettings(process.env).baseUrl, credentials: credentialsFromEnv(process.env) });
  let secretsManager;
  if (options.secretId !== undefined && !options.dryRun) {
    const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const { regionOfArn } = await import('./executions.js');
    const region = options.secretId.startsWith('arn:') ? regionOfArn(options.secretId) : undefined;
    secretsManager = new SecretsManagerClient(region ? { region } : {});
  }
  const report = await zendeskSetup(options, { admin, ...(secretsManager ? { secretsManager } : {}), log: stderr });
  printJson(report);
  return 0;
}

async function executions(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      local: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      status: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      'state-machine-arn': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const ex = await import('./executions.js');
  const target = (executionArn?: string): Parameters<typeof ex.listExecutions>[0] =>
    values.local
      ? { kind: 'local', historyDir: ex.historyDirOf(process.env) }
      : ex.awsTarget({ ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}), ...(executionArn ? { executionArn } : {}) });
  const one = (): string => {
    if (positionals.length !== 1) throw new UsageError(`executions ${sub} needs one execution name or ARN`);
    return positionals[0]!;
  };
  switch (sub) {
    case 'list': {
      if (positionals.length) throw new UsageError('executions list takes no arguments');
      let limit: number | undefined;
      if (values.limit !== undefined) {
        limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be 1-10000');
      }
      const status = ex.parseStatus(values.status);
      const since = ex.parseSince(values.since);
      const rows = await ex.listExecutions(target(), { ...(status ? { status } : {}), ...(since ? { since } : {}), ...(limit ? { limit } : {}) });
      if (values.json) printJson({ executions: rows });
      else printLine(ex.formatExecutionTable(rows));
      return 0;
    }
    case 'show': {
      const id = one();
      const details = await ex.showExecution(target(id.startsWith('arn:') ? id : undefined), id);
      if (values.json) printJson(details);
      else printLine(ex.formatExecutionDetails(details));
      return 0;
    }
    case 'redrive': {
      const id = one();
      if (values.local) return redriveLocally(id);
      const report = await ex.redriveExecution(ex.awsTarget({ ...(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {}), ...(id.startsWith('arn:') ? { executionArn: id } : {}) }), id);
      printJson(report);
      stderr(ex.explainRedrive(report));
      return report.redriven ? 0 : 1;
    }
    default:
      throw new UsageError(sub ? `Unknown command "executions ${sub}"` : 'executions needs a command: list, show or redrive');
  }
}

async function rerun(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ticket: { type: 'string' },
      failed: { type: 'boolean', default: false },
      since: { type: 'string' },
      'starts-per-minute': { type: 'string' },
      local: { type: 'boolean', default: false },
      'state-machine-arn': { type: 'string' },
    },
    strict: true,
  });
  if (values.failed) {
    if (values.ticket !== undefined) throw new UsageError('rerun takes --ticket <id> or --failed, not both');
    return rerunFailedCommand(values);
  }
  if (values.since !== undefined || values['starts-per-minute'] !== undefined) throw new UsageError('--since and --starts-per-minute go with rerun --failed');
  const ticketId = ticketOf(values.ticket);
  if (values.local) return runLocally(ticketId, 'rerun');
  const { awsTarget, rerunOnAws } = await import('./executions.js');
  const target = awsTarget(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {});
  const report = await rerunOnAws(target, ticketId);
  printJson(report);
  stderr(`started ${report.executionName}: attachment-vault executions show ${report.executionName}`);
  return 0;
}

/** `rerun --failed`: on AWS at a bounded pace, or (--local) one local execution after the other. */
async function rerunFailedCommand(values: { since?: string; 'starts-per-minute'?: string; local?: boolean; 'state-machine-arn'?: string }): Promise<number> {
  const ex = await import('./executions.js');
  const { rerunFailed, DEFAULT_STARTS_PER_MINUTE, MAX_STARTS_PER_MINUTE } = await import('./rerun-failed.js');
  const { progressWriter } = await import('./progress.js');
  const since = ex.parseSince(values.since ?? '7d')!;
  const startsPerMinute = values['starts-per-minute'] === undefined ? DEFAULT_STARTS_PER_MINUTE : Number(values['starts-per-minute']);
  if (!Number.isInteger(startsPerMinute) || startsPerMinute < 1 || startsPerMinute > MAX_STARTS_PER_MINUTE) throw new UsageError(`--starts-per-minute must be 1-${MAX_STARTS_PER_MINUTE}`);
  const progress = progressWriter(process.stderr);
  const onProgress = progress ? (done: number, total: number) => progress(`rerun --failed: ${done}/${total} tickets`, done === total) : undefined;
  if (values.local) {
    const { openLocal } = await import('../local/runtime/local.js');
    const { runTicket } = await import('./run.js');
    const runtime = await openLocal({ seedDemo: !process.env.ZENDESK_URL });
    try {
      const report = await rerunFailed({ kind: 'local', historyDir: ex.historyDirOf(process.env) }, since, { startsPerMinute }, {
        rerun: async (ticketId) => {
          const document = await runTicket(runtime, ticketId, 'rerun');
          return { executionName: document.executionName, status: document.status };
        },
        ...(onProgress ? { onProgress } : {}),
      });
      printJson(report);
      return report.refused.length === 0 && report.started.every((s) => s.status === 'SUCCEEDED') ? 0 : 1;
    } finally {
      await runtime.close();
    }
  }
  const target = ex.awsTarget(values['state-machine-arn'] ? { stateMachineArn: values['state-machine-arn'] } : {});
  const report = await rerunFailed(target, since, { startsPerMinute }, {
    rerun: async (ticketId) => {
      const started = await ex.rerunOnAws(target, ticketId);
      return { executionName: started.executionName, executionArn: started.executionArn };
    },
    ...(onProgress ? { onProgress } : {}),
  });
  printJson(report);
  stderr(`started ${report.started.length} of ${report.failedTickets} failed tickets${report.skipped.length ? `, skipped ${report.skipped.length}` : ''}${report.refused.length ? `, ${report.refused.length} refused` : ''}`);
  return report.refused.length === 0 ? 0 : 1;
}

/** `backfill start|status|throttle|redrive` on AWS (backfill-aws.ts); without a subcommand, the local backfill. */
async function backfill(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const aws = await import('./backfill-aws.js');
  if (sub && !sub.startsWith('-')) {
    if (!aws.BACKFILL_AWS_COMMANDS.has(sub)) throw new UsageError(`Unknown command "backfill ${sub}"`);
    const { progressWriter } = await import('./progress.js');
    const progress = progressWriter(process.stderr);
    return aws.backfillAwsCommand(sub, rest, { printJson, printLine, log: stderr, env: process.env, ...(progress ? { progress } : {}) });
  }
  const { parseBackfillArgs, runBackfillLocally } = await import('./backfill-local.js');
  return runBackfillLocally(parseBackfillArgs(args));
}

/** Runs one command and returns its exit code once its output is written (the launcher exits with it). */
export async function main(argv: string[]): Promise<number> {
  try {
    return await runCommand(argv);
  } finally {
    await flushStdout();
  }
}

async function runCommand(argv: string[]): Promise<number> {
  reserveStdout();
  // The in-process handlers log at WARN locally unless asked otherwise (set before any handler is loaded).
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // Nor do they write metrics (EMF lines for CloudWatch): stdout is the command's document.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  try {
    switch (command) {
      case 'demo': {
        parseArgs({ args: rest, options: {}, strict: true });
        const { runDemo } = await import('./demo.js');
        return await runDemo();
      }
      case 'run': {
        const { values } = parseArgs({ args: rest, options: { ticket: { type: 'string' } }, strict: true });
        return await runLocally(ticketOf(values.ticket), 'cli');
      }
      case 'serve': {
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string', default: '8787' }, host: { type: 'string', default: '127.0.0.1' } }, strict: true });
        const port = Number(values.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
        const { openLocal } = await import('../local/runtime/local.js');
        const { startWebhookServer } = await import('./serve.js');
        const runtime = await openLocal();
        const { server, url } = await startWebhookServer(runtime, { port, host: values.host ?? '127.0.0.1' });
        printJson({ listening: url });
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await runtime.close();
        return 0;
      }
      case 'zendesk':
        return await zendesk(rest);
      case 'executions':
        return await executions(rest);
      case 'rerun':
        return await rerun(rest);
      case 'backfill':
        return await backfill(rest);
      case 'archive': {
        const { archive } = await import('./archive.js');
        return await archive(rest);
      }
      case 'viewer': {
        const { viewerCommand } = await import('./viewer.js');
        return await viewerCommand(rest);
      }
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    if (CONFIG_ERRORS.has(name) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`attachment-vault: ${message}\n${name === 'UsageError' || (error as { code?: string }).code ? `\n${USAGE}\n` : ''}`);
      return 2;
    }
    process.stderr.write(`attachment-vault: ${name}: ${message}\n`);
    return 1;
  }
}

/**
 * `executions redrive --local`: the local engine's stand-in for RedriveExecution (same name, resumes at the failed
 * state, keeps the Map iterations that succeeded). It needs the Zendesk the execution ran against (ZENDESK_URL):
 * an embedded sandbox lives only as long as its command.
 */
async function redriveLocally(nameOrArn: string): Promise<number> {
  const name = nameOrArn.split(':').pop() ?? nameOrArn;
  const { openLocal } = await import('../local/runtime/local.js');
  const { loadDocument } = await import('./run.js');
  const runtime = await openLocal({ seedDemo: !process.env.ZENDESK_URL });
  try {
    const started = await runtime.engine.redrive(name);
    const document = await loadDocument(await started.done, runtime.env);
    printJson({ redriven: true, ...document });
    return document.status === 'SUCCEEDED' ? 0 : 1;
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionNotRedrivable') {
      const record = await runtime.engine.history.get(name);
      const ticketId = (record?.input as { ticketId?: string } | undefined)?.ticketId;
      printJson({ redriven: false, error: error.name, message: error.message, ...(ticketId ? { hint: `attachment-vault rerun --ticket ${ticketId} --local` } : {}) });
      stderr(`${error.message}${ticketId ? `. To process the ticket again: attachment-vault rerun --ticket ${ticketId} --local` : ''}`);
      return 1;
    }
    throw error;
  } finally {
    await runtime.close();
  }
}
