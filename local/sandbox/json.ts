import { isoSeconds } from './http.js';
import type { AttachmentRecord, CommentRecord, MalwareScanResult, TicketRecord, ZendeskStore } from './store.js';
import { AGENT_USER_ID } from './store.js';

/** Response shapes, after test/fixtures/zendesk/*.json (recorded Zendesk responses) and the examples of Zendesk's OpenAPI description. `api` is the sandbox API origin. */

/** An attachment as the API shows it (test/fixtures/zendesk/comments-list-cursor.json). */
export interface ApiAttachment {
  url: string;
  id: number;
  file_name: string;
  content_url: string;
  mapped_content_url: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  inline: boolean;
  deleted: boolean;
  malware_access_override: boolean;
  malware_scan_result: MalwareScanResult;
  /** Absent on thumbnail objects themselves. */
  thumbnails?: ApiAttachment[];
}

/** A comment as List Comments shows it. */
export interface ApiComment {
  id: number;
  type: 'Comment';
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  attachments: ApiAttachment[];
  audit_id: number;
  via: Record<string, unknown>;
  created_at: string;
  metadata: Record<string, unknown>;
}

export function contentUrl(api: string, a: AttachmentRecord): string {
  return `${api}/attachments/token/${a.token}/?name=${encodeURIComponent(a.fileName)}`;
}

export function attachmentJson(api: string, store: ZendeskStore, a: AttachmentRecord): ApiAttachment {
  const url = contentUrl(api, a);
  const json: ApiAttachment = {
    url: `${api}/api/v2/attachments/${a.id}.json`,
    id: a.id,
    file_name: a.fileName,
    content_url: url,
    mapped_content_url: url,
    content_type: a.contentType,
    size: a.size,
    width: a.width,
    height: a.height,
    inline: a.inline,
    deleted: a.deleted,
    malware_access_override: a.malwareAccessOverride,
    malware_scan_result: a.malwareScanResult,
  };
  if (a.thumbnailOf === undefined) {
    json.thumbnails = a.thumbnailIds
      .map((id) => store.attachments.get(id))
      .filter((t): t is AttachmentRecord => t !== undefined && t.state === 'present')
      .map((t) => attachmentJson(api, store, t));
  }
  return json;
}

/** The comment as List Comments shows it; inline attachments only when asked for. */
export function commentJson(
  api: string,
  store: ZendeskStore,
  c: CommentRecord,
  options: { includeInline: boolean },
): ApiComment {
  return {
    id: c.id,
    type: 'Comment',
    author_id: c.authorId,
    body: c.body,
    html_body: c.htmlBody,
    plain_body: c.plainBody,
    public: c.public,
    attachments: commentAttachments(store, c, options.includeInline).map((a) => attachmentJson(api, store, a)),
    audit_id: c.auditId,
    via: {
      channel: 'api',
      source: { from: {}, to: { name: 'Example Agent', address: 'agent@example.com' }, rel: null },
    },
    created_at: isoSeconds(c.createdAt),
    metadata: {
      system: {
        client: 'attachment-vault-sandbox',
        ip_address: '192.0.2.10',
        location: 'Example City',
        latitude: 0,
        longitude: 0,
      },
      custom: {},
    },
  };
}

/** The comment as comment_redactions answers it (test/fixtures/zendesk/comment-redactions.json: fewer fields). */
export function redactedCommentJson(api: string, store: ZendeskStore, c: CommentRecord): Record<string, unknown> {
  return {
    id: c.id,
    type: 'Comment',
    author_id: c.authorId,
    body: c.body,
    html_body: c.htmlBody,
    plain_body: c.plainBody,
    public: c.public,
    attachments: commentAttachments(store, c, true).map((a) => attachmentJson(api, store, a)),
    audit_id: c.auditId,
  };
}

export function commentAttachments(store: ZendeskStore, c: CommentRecord, includeInline: boolean): AttachmentRecord[] {
  return c.attachmentIds
    .map((id) => store.attachments.get(id))
    .filter((a): a is AttachmentRecord => a !== undefined && (includeInline || !a.inline));
}

export function ticketJson(api: string, store: ZendeskStore, t: TicketRecord): Record<string, unknown> {
  const first = t.commentIds.length > 0 ? store.comments.get(t.commentIds[0] as number) : undefined;
  return {
    url: `${api}/api/v2/tickets/${t.id}.json`,
    id: t.id,
    external_id: null,
    via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
    created_at: isoSeconds(t.createdAt),
    updated_at: isoSeconds(t.updatedAt),
    generated_timestamp: Math.floor(t.updatedAt / 1000),
    type: null,
    subject: t.subject,
    raw_subject: t.subject,
    description: first?.plainBody ?? '',
    priority: null,
    status: t.status,
    recipient: null,
    requester_id: t.requesterId,
    submitter_id: AGENT_USER_ID,
    assignee_id: AGENT_USER_ID,
    organization_id: null,
    group_id: null,
    collaborator_ids: [],
    follower_ids: [],
    email_cc_ids: [],
    forum_topic_id: null,
    problem_id: null,
    has_incidents: false,
    is_public: true,
    due_at: null,
    tags: [...t.tags],
    custom_fields: [],
    satisfaction_rating: null,
    sharing_agreement_ids: [],
    custom_status_id: null,
    fields: [],
    followup_ids: [],
    ticket_form_id: null,
    brand_id: t.brandId,
    allow_channelback: false,
    allow_attachments: true,
    from_messaging_channel: false,
  };
}
