import { logger } from '../shared/logger.js';
import { trafficOf } from '../shared/traffic.js';
import { notifyWebhookUrl } from '../shared/secrets.js';
import { parseRunFileRef, runFilesFromEnv, type RunFiles } from '../shared/run-files.js';
import type { NotifyResult, Summary } from '../shared/types.js';
import { notify, parseSummary, type NotifyInput } from './notify.js';
import { interruptedRunInput, isExecutionStatusEvent, type ExecutionStatusEvent } from './outage.js';

/**
 * The thin Lambda door of the Notify state. Input: `{ summary, executionName?, executionArn?, ticketUrl? }`
 * (FinishTicket's summary plus `$$.Execution.Name` / `$$.Execution.Id`). Returns NotifyResult and never throws:
 * a failed notification must not fail a run whose files are already archived and redacted.
 * The URL comes from NOTIFY_SECRET_ARN (AWS) or NOTIFY_WEBHOOK_URL (local); neither set = notifications off.
 */

function isNotifyInput(event: unknown): event is NotifyInput {
  const summary = (event as { summary?: unknown } | null)?.summary as
    | { ticketId?: unknown; attachments?: unknown; status?: unknown }
    | undefined;
  return (
    typeof summary === 'object' &&
    summary !== null &&
    typeof summary.ticketId === 'string' &&
    Array.isArray(summary.attachments) &&
    (summary.status === 'SUCCEEDED' || summary.status === 'FAILED')
  );
}

let files: RunFiles | undefined;

/**
 * The whole summary of a large ticket (the state's lists only problems): read from the run's summary.json. When it
 * cannot be read, the notification still goes, with the counts of every file and the files the state lists.
 */
async function wholeSummary(summary: Summary): Promise<Summary> {
  if (!summary.truncated || summary.file === undefined) return summary;
  try {
    files ??= runFilesFromEnv();
    return parseSummary(await files.read(parseRunFileRef(summary.file, files.bucket, 'summary.file')), summary);
  } catch (error) {
    logger.warn('whole summary unavailable; notifying with the truncated one', { ticketId: summary.ticketId, error: error instanceof Error ? error.name : 'Error' });
    return summary;
  }
}

export const handler = async (incoming: NotifyInput | ExecutionStatusEvent): Promise<NotifyResult> => {
  let event: unknown = incoming;
  if (isExecutionStatusEvent(incoming)) {
    // EventBridge: an execution ended FAILED/TIMED_OUT/ABORTED; tell the team unless its Notify state already did.
    const interrupted = interruptedRunInput(incoming);
    if (!interrupted) return { delivered: false, attempts: 0, format: 'none' };
    event = interrupted;
  }
  if (!isNotifyInput(event)) {
    logger.error('notify input does not match the contract', { error: 'InvalidInput' });
    return { delivered: false, attempts: 0, format: 'none', error: 'InvalidInput' };
  }
  const { executionName } = event;
  if (trafficOf({ executionName }) === 'backfill') {
    // A backfill runs thousands of tickets: its report tells the team once, not one message per ticket.
    logger.info('backfill ticket: reported by the backfill, not notified', { ticketId: event.summary.ticketId, executionName });
    return { delivered: false, attempts: 0, format: 'none' };
  }
  const summary = await wholeSummary(event.summary);
  let url: string | undefined;
  try {
    url = await notifyWebhookUrl();
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    logger.error('notification URL unavailable', { ticketId: summary.ticketId, executionName, error: name });
    return { delivered: false, attempts: 0, format: 'none', error: name };
  }
  const result = await notify({ ...event, summary }, { url });
  const keys = { ticketId: summary.ticketId, executionName, ...result };
  if (result.format === 'none') logger.info('notifications are off', keys);
  else if (result.delivered) logger.info('notification delivered', keys);
  else logger.warn('notification not delivered', keys);
  return result;
};
