/**
 * `attachment-vault backfill` without a subcommand: the whole backfill in the local engine (statemachine/backfill.asl.json
 * unchanged, its Distributed Map through the local Map Run adapter, each ticket a local execution of the per-ticket
 * machine), or with --dry-run the selection and a projection only. Implemented in the next commits.
 */
export interface BackfillOptions {
  since: string;
  until: string;
  query: string;
  maxConcurrency: number;
  dryRun: boolean;
}

export async function runBackfillLocally(options: BackfillOptions): Promise<number> {
  void options;
  throw new Error('not implemented yet');
}
