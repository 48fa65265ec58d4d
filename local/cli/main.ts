import { parseArgs } from 'node:util';
import { printJson, reserveStdout, UsageError } from './output.js';

const USAGE = `Usage:
  attachment-vault run --ticket <id>            run one execution in the local engine; prints one JSON document
  attachment-vault serve [--port 8787] [--host 127.0.0.1]
                                                receive Zendesk webhooks on POST /webhooks/zendesk

Environment: ZENDESK_URL, ZENDESK_EMAIL + ZENDESK_API_TOKEN or ZENDESK_OAUTH_CLIENT_ID + ZENDESK_OAUTH_CLIENT_SECRET,
ZENDESK_CONTENT_HOSTS, ARCHIVE_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE, NOTIFY_WEBHOOK_URL,
NOTIFY_FORMAT, ZENDESK_WEBHOOK_SECRET. Without ZENDESK_URL the embedded sandbox Zendesk and S3 are used.
Exit codes: 0 succeeded, 1 failed, 2 usage or configuration error.`;

const CONFIG_ERRORS = new Set(['UsageError', 'ConfigurationError', 'LocalConfigurationError']);

function ticketOf(value: string | undefined): string {
  if (!value || !/^[0-9]{1,20}$/.test(value)) throw new UsageError('--ticket <id> is required: the Zendesk ticket ID, digits only');
  return value;
}

export async function main(argv: string[]): Promise<number> {
  reserveStdout();
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  try {
    switch (command) {
      case 'run': {
        const { values } = parseArgs({ args: rest, options: { ticket: { type: 'string' } }, strict: true });
        const ticketId = ticketOf(values.ticket);
        const { openLocal } = await import('../runtime/local.js');
        const { runTicket } = await import('./run.js');
        const runtime = await openLocal();
        try {
          const document = await runTicket(runtime, ticketId);
          printJson(document);
          return document.status === 'SUCCEEDED' ? 0 : 1;
        } finally {
          await runtime.close();
        }
      }
      case 'serve': {
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string', default: '8787' }, host: { type: 'string', default: '127.0.0.1' } }, strict: true });
        const port = Number(values.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
        const { openLocal } = await import('../runtime/local.js');
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
