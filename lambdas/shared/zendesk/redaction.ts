import { TicketClosed, ZendeskRequestFailed } from '../errors.js';
import { logger } from '../logger.js';
import { parseTicketBudget, TICKET_BUDGET_HEADER, type TicketBudget } from './budget.js';
import { errorCode, unappliedOnlyRetry } from './http.js';
import { positiveId, ticketPath, type ZendeskRequest } from './request.js';
import type { RedactionOutcome, ZendeskApi } from './types.js';

/** Redacting a comment's attachments: comment_redactions first, the legacy per-attachment endpoint as fallback. */

/**
 * How comment_redactions' 404 is read. Zendesk answers a missing record with JSON `{"error":"RecordNotFound"}`,
 * while an unknown or disabled route answers 404 with something else (HTML, an empty body, or JSON such as
 * `{"error":"InvalidEndpoint"}`). So only a JSON RecordNotFound means "the endpoint exists and the comment (or
 * ticket) does not": then we check the ticket (TicketNotFound if it is gone) and otherwise fail with
 * ZendeskRequestFailed(404), because the legacy endpoint would only 404 the same comment. Any other 404, and
 * 405/501, mean "endpoint unavailable" and fall back to the legacy per-attachment endpoint. Erring towards the
 * fallback is safe: its 404 counts as "already redacted" only because callers re-list to confirm.
 */
class EndpointUnavailable extends Error {}
class CommentNotFound extends Error {}
class AlreadyRedacted extends Error {}

type Attachments = Array<{ id: number; content_url: string }>;

function outcome(endpoint: RedactionOutcome['endpoint'], budget: TicketBudget | undefined): RedactionOutcome {
  return budget ? { endpoint, ticketBudget: budget } : { endpoint };
}

/** One redaction call: which attachments of which comment, and the subject its messages name. */
interface RedactionTarget {
  ticketId: string;
  commentId: number;
  attachments: Attachments;
  subject: string;
}

/** comment_redactions: the outcome, or undefined when the endpoint is unavailable and the legacy one must run. */
async function viaCommentRedactions(
  { exchange, maxInProcessRetryAfterSeconds }: ZendeskRequest,
  getTicket: ZendeskApi['getTicket'],
  { ticketId, commentId, attachments, subject }: RedactionTarget,
): Promise<RedactionOutcome | undefined> {
  try {
    const { headers } = await exchange<unknown>(
      {
        route: 'commentRedactions',
        subject,
        statuses: {
          404: (m, data) => (errorCode(data) === 'RecordNotFound' ? new CommentNotFound(m) : new EndpointUnavailable(m)),
          405: (m) => new EndpointUnavailable(m),
          501: (m) => new EndpointUnavailable(m),
        },
      },
      `api/v2/comment_redactions/${commentId}`,
      {
        method: 'put',
        json: { ticket_id: Number(ticketId), external_attachment_urls: attachments.map((a) => a.content_url) },
        // A lost answer is not sent again here: the step's retry re-lists and names only what is left.
        retry: unappliedOnlyRetry(maxInProcessRetryAfterSeconds),
      },
    );
    return outcome('comment_redactions', parseTicketBudget(headers.get(TICKET_BUDGET_HEADER)));
  } catch (error) {
    if (error instanceof CommentNotFound) {
      await getTicket(ticketId); // TicketNotFound when the ticket is gone
      throw new ZendeskRequestFailed(`commentRedactions ${subject}: comment not found`, 404);
    }
    if (!(error instanceof EndpointUnavailable)) throw error;
    logger.warn('comment_redactions unavailable; using the legacy attachment redaction', { ticketId, commentId });
    return undefined;
  }
}

/** The legacy per-attachment endpoint, one call per attachment. */
async function viaLegacy(
  { exchange, maxInProcessRetryAfterSeconds }: ZendeskRequest,
  ticketBase: string,
  { commentId, attachments, subject }: RedactionTarget,
): Promise<RedactionOutcome> {
  let budget: TicketBudget | undefined;
  for (const attachment of attachments) {
    try {
      const { headers } = await exchange<unknown>(
        {
          route: 'legacyRedact',
          subject: `${subject} attachment ${attachment.id}`,
          statuses: {
            404: (m) => new AlreadyRedacted(m), // redacting twice answers 404 (observed); callers re-list
            422: (m) => new TicketClosed(m),
          },
        },
        `${ticketBase}/comments/${commentId}/attachments/${attachment.id}/redact`,
        { method: 'put', json: {}, retry: unappliedOnlyRetry(maxInProcessRetryAfterSeconds) },
      );
      budget = parseTicketBudget(headers.get(TICKET_BUDGET_HEADER)) ?? budget;
    } catch (error) {
      if (!(error instanceof AlreadyRedacted)) throw error;
    }
  }
  return outcome('legacy', budget);
}

export function createRedaction(
  request: ZendeskRequest,
  getTicket: ZendeskApi['getTicket'],
): Pick<ZendeskApi, 'redactCommentAttachments'> {
  async function redactCommentAttachments(
    ticketId: string,
    commentId: number,
    attachments: Attachments,
  ): Promise<RedactionOutcome> {
    const ticketBase = ticketPath(ticketId);
    positiveId('commentId', commentId);
    for (const attachment of attachments) positiveId('attachment id', attachment.id);
    if (attachments.length === 0) return { endpoint: 'comment_redactions' };

    const target: RedactionTarget = { ticketId, commentId, attachments, subject: `ticket ${ticketId} comment ${commentId}` };
    const redacted = await viaCommentRedactions(request, getTicket, target);
    return redacted ?? viaLegacy(request, ticketBase, target);
  }

  return { redactCommentAttachments };
}
