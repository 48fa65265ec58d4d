import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one configured Powertools Logger. JSON to stdout in Lambda; the local runtime redirects it to stderr so
 * the CLI's stdout stays one JSON document. Never log file names, content URLs, bodies or secrets.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'attachment-vault' });
