/** The archive commands' lines of `attachment-vault --help` (kept apart so that printing help loads nothing else). */
export const ARCHIVE_USAGE = `  attachment-vault archive list (--ticket <id> | --requester <id> | --since <date> [--until <date>]) [--local]
                                                the archived files: {"files": [...]}
  attachment-vault archive open <attachmentId> --reason "<why>" [--local]
                                                an audited link of at most 5 minutes: {"url", "expiresAt"}
  attachment-vault archive erase (--ticket <id> | --requester <id>) --reason "<why>" [--dry-run] [--local]
                                                every version of every object goes: {"erased": [...], "objects": n}
  attachment-vault archive audit [--ticket <id>] [--actor <who>] [--since <date>] [--local]
                                                who opened, viewed or erased what, when and why: {"entries": [...]}
  attachment-vault archive reindex [--local]    rebuild the index from the bucket's object metadata`;
