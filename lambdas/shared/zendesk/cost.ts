/**
 * Zendesk API requests one ticket costs the per-ticket workflow, by its shape (docs/benchmarks.md: the bench measures
 * every shape against this). P = pages of comments (100 per page), N = files, C = comments with files:
 *   2 ticket reads (MarkTicket, FinishTicket's safe update), 2 tag writes (refused, but sent, on a closed ticket),
 *   3P comment listings (ListAttachments; RedactVerified before and after its calls), N attachment reads (a fresh
 *   content_url), N credentialed downloads (the 302 to the content host; the content host itself is not the API),
 *   C redactions.
 * The floor the issue names is 4 + 2P + 2N + C; the third listing is the redaction's own check of what Zendesk holds
 * right before it redacts.
 */
export const COMMENTS_PER_PAGE = 100;

export interface TicketShape {
  comments: number;
  files: number;
  commentsWithFiles: number;
}

export function ticketRequests(shape: TicketShape): number {
  const pages = Math.max(1, Math.ceil(shape.comments / COMMENTS_PER_PAGE));
  return 4 + 3 * pages + 2 * shape.files + shape.commentsWithFiles;
}

/** The floor of issue 15: 4 + 2P + 2N + C. */
export function requestFloor(shape: TicketShape): number {
  const pages = Math.max(1, Math.ceil(shape.comments / COMMENTS_PER_PAGE));
  return 4 + 2 * pages + 2 * shape.files + shape.commentsWithFiles;
}
