import { isoSeconds } from './http.js';
import { contentUrl } from './json.js';
import type { AttachmentRecord, MalwareScanResult, TicketRecord, TicketStatus } from './store.js';

/** What the seeding and inspection API hands out: plain copies of the store's records. */

export interface TicketView {
  id: number;
  status: TicketStatus;
  subject: string;
  tags: string[];
  requester_id: number;
  brand_id: number;
  created_at: string;
  updated_at: string;
  deleted: boolean;
  /** In Zendesk's archive (closed for more than 120 days): see README.md, archived tickets. */
  archived: boolean;
  commentIds: number[];
}

export interface AttachmentView {
  id: number;
  ticketId: number;
  commentId: number;
  fileName: string;
  contentType: string;
  size: number;
  inline: boolean;
  deleted: boolean;
  malwareScanResult: MalwareScanResult;
  malwareAccessOverride: boolean;
  /** `redacted`: replaced by `replacedBy` (a redacted.txt); the id and its token are gone from the API. */
  state: 'present' | 'redacted';
  replacedBy?: number;
  replaces?: number;
  redactedVia?: 'comment_redactions' | 'legacy';
  contentUrl: string;
  thumbnailIds: number[];
  /** Completed downloads from the content host. */
  downloads: number;
}

export interface CommentView {
  id: number;
  ticketId: number;
  attachments: AttachmentView[];
}

export function ticketView(t: TicketRecord): TicketView {
  return {
    id: t.id,
    status: t.status,
    subject: t.subject,
    tags: [...t.tags],
    requester_id: t.requesterId,
    brand_id: t.brandId,
    created_at: isoSeconds(t.createdAt),
    updated_at: isoSeconds(t.updatedAt),
    deleted: t.deleted,
    archived: t.archived,
    commentIds: [...t.commentIds],
  };
}

/** `apiOrigin`: the sandbox's API origin, which the attachment's content_url points at. */
export function attachmentView(apiOrigin: string, a: AttachmentRecord): AttachmentView {
  return {
    id: a.id,
    ticketId: a.ticketId,
    commentId: a.commentId,
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
    inline: a.inline,
    deleted: a.deleted,
    malwareScanResult: a.malwareScanResult,
    malwareAccessOverride: a.malwareAccessOverride,
    state: a.state,
    ...(a.replacedBy !== undefined ? { replacedBy: a.replacedBy } : {}),
    ...(a.replaces !== undefined ? { replaces: a.replaces } : {}),
    ...(a.redactedVia !== undefined ? { redactedVia: a.redactedVia } : {}),
    contentUrl: contentUrl(apiOrigin, a),
    thumbnailIds: [...a.thumbnailIds],
    downloads: a.downloads,
  };
}
