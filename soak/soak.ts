/**
 * The chaos soak (`npm run soak`, docs/faults.md#the-soak): many tickets at once through the local engine with faults
 * drawn per request from a seed, the runner process killed with SIGKILL at seeded moments and recovered as an operator
 * would, then re-runs of every ticket that did not end archived; after every pass, the hard rule for every file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileReport } from '../cli/run.js';
import { Rng, seedNumber } from './random.js';
import { planTickets, type FilePlan, type TicketPlan } from './plan.js';
import { soakFaults } from './faults.js';
import { startSoakServices, type SoakServices } from './services.js';
import { RunnerGone, RunnerHost } from './host.js';
import type { RedriveResult, RunResult } from './runner.js';
import { Archive, checkTickets, type PassCheck, type SeededFile, type TicketState } from './check.js';

export interface SoakOptions {
  tickets: number;
  seed: string;
  faultRate: number;
  concurrency: number;
  kills: number;
  /** `full` (the default of npm run soak): files up to 100 MB; `small`: the in-test soak's. */
  sizes: 'full' | 'small';
  /** The Lambda timeout the runner's handlers see; the operator waits it out after a kill (default 20 s). */
  lambdaTimeoutMs?: number;
  /** Re-run rounds after the first pass (default 3); faults stay on in the first. */
  maxRounds?: number;
  /** Zendesk's per-ticket update budget per 10 minutes (default 12: tickets with many comments wait for it). */
  perTicketUpdateLimit?: number;
  log?: (line: string) => void;
}

export interface PassReport extends Omit<PassCheck, 'done' | 'violations'> {
  pass: number;
  /** Tickets run in this pass. */
  tickets: number;
  executions: number;
  seconds: number;
  faults: boolean;
}

export interface SoakReport {
  seed: string;
  settings: { tickets: number; faultRate: number; concurrency: number; kills: number; sizes: 'full' | 'small'; lambdaTimeoutMs: number; perTicketUpdateLimit: number };
  tickets: number;
  files: number;
  bytes: number;
  /** Files that can be archived: every seeded file (none is malware, deleted or too large). */
  archivable: number;
  faults: { total: number; byKind: Record<string, number> };
  kills: number;
  /** The runner died without being killed (a finding). */
  runnerCrashes: number;
  /** Executions a restarted runner found left RUNNING and ended (ExecutionInterrupted). */
  interrupted: number;
  executions: number;
  redrives: number;
  reruns: number;
  /** Re-run rounds after the first pass. */
  rounds: number;
  passes: PassReport[];
  notifications: number;
  lost: number;
  redactedUnverified: number;
  redactedTwice: number;
  stuckProcessing: number;
  unreported: number;
  misreported: number;
  archivedAndRedacted: number;
  throughput: { seconds: number; filesPerSecond: number; mbPerSecond: number };
  /** The first breaches, in words (empty when the invariants held). */
  violations: string[];
  ok: boolean;
}

type Step = { kind: 'start'; name: string; source: 'cli' | 'rerun' } | { kind: 'redrive'; name: string };

function seedSandbox(services: SoakServices, plan: TicketPlan[]): Map<number, TicketState> {
  const states = new Map<number, TicketState>();
  for (const ticket of plan) {
    const { sandbox } = services;
    sandbox.createTicket({
      id: ticket.ticketId,
      tags: ['vault_archive'],
      ...(ticket.kind === 'archived' ? { archived: true } : { status: ticket.kind === 'closed' ? 'closed' : 'open' }),
    });
    const files: SeededFile[] = [];
    for (const [c, seeds] of ticket.comments.entries()) {
      const data = (f: FilePlan) => ({ size: f.size, seed: f.dataSeed, ...(f.head ? { head: Buffer.from(f.head, 'latin1') } : {}) });
      const comment = sandbox.addComment(ticket.ticketId, {
        body: seeds.length > 0 ? `Files for case ${ticket.ticketId}` : `Comment ${c + 1}`,
        attachments: seeds.map((f) => ({ fileName: f.fileName, contentType: f.contentType, data: data(f), inline: f.inline })),
      });
      for (const [i, attachment] of comment.attachments.entries()) files.push({ attachmentId: attachment.id, size: attachment.size, data: data(seeds[i]!) });
    }
    states.set(ticket.ticketId, { ticketId: ticket.ticketId, files, reports: new Map(), executions: [] });
  }
  return states;
}

/** A pool of `concurrency` workers over the items. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const seed = seedNumber(options.seed);
  const lambdaTimeoutMs = options.lambdaTimeoutMs ?? 20_000;
  const perTicketUpdateLimit = options.perTicketUpdateLimit ?? 12;
  const plan = planTickets({ seed, tickets: options.tickets, sizes: options.sizes });
  const dataDir = await mkdtemp(join(tmpdir(), 'vault-soak-'));
  const services = await startSoakServices(dataDir, { perTicketUpdateLimit });
  const states = seedSandbox(services, plan);
  const allFiles = [...states.values()].flatMap((t) => t.files);
  const bytes = allFiles.reduce((sum, f) => sum + f.size, 0);
  log(`soak: seed ${options.seed}, ${plan.length} tickets, ${allFiles.length} files, ${(bytes / 1e6).toFixed(1)} MB, fault rate ${options.faultRate}, ${options.kills} kills`);

  const faults = soakFaults(seed, options.faultRate);
  const faultsOn = (on: boolean) => {
    services.sandbox.faults.choose(on ? faults.zendesk : undefined);
    services.s3Proxy.faults.choose(on ? faults.s3 : undefined);
    services.notifyProxy.faults.choose(on ? faults.notify : undefined);
  };
  const host = new RunnerHost({ ...services.runnerEnv, SOAK_LAMBDA_TIMEOUT_MS: String(lambdaTimeoutMs) }, (message) => {
    if (message.type === 'advanceClock') services.sandbox.advanceClock(Number(message.seconds));
  });
  const archive = new Archive(services.s3, services.bucket);
  const counters = { executions: 0, redrives: 0, reruns: 0 };
  let names = 0;
  const nameFor = (ticketId: number, prefix: 'run' | 'rerun', pass: number) => `${prefix}-${ticketId}-soak-p${pass}-${++names}`;

  /** One ticket to its end, through kills: redrive the interrupted execution where the engine allows, else re-run. */
  const drive = async (state: TicketState, pass: number, onStart: () => void): Promise<void> => {
    let step: Step = { kind: 'start', name: nameFor(state.ticketId, pass === 0 ? 'run' : 'rerun', pass), source: pass === 0 ? 'cli' : 'rerun' };
    let result: RunResult | undefined;
    while (!result) {
      try {
        if (step.kind === 'start') {
          counters.executions += 1;
          state.executions.push(step.name);
          await host.up();
          onStart();
          result = await host.call<RunResult>('start', { name: step.name, ticketId: String(state.ticketId), source: step.source });
        } else {
          const redriven = await host.call<RedriveResult>('redrive', { name: step.name });
          if (redriven.redriven) {
            counters.redrives += 1;
            result = redriven;
          } else {
            counters.reruns += 1;
            step = { kind: 'start', name: nameFor(state.ticketId, 'rerun', pass), source: 'rerun' };
          }
        }
      } catch (error) {
        if (!(error instanceof RunnerGone)) {
          result = { name: step.name, ticketId: String(state.ticketId), status: 'FAILED', error: 'RunnerError', cause: String(error), files: [] };
          break;
        }
        // The operator's recovery: once the runner is back and the killed Lambdas' timeout has passed.
        log(`soak: ${step.name} interrupted (${error.message}); recovering`);
        await host.up();
        await sleep(Math.max(0, error.exitedAt + lambdaTimeoutMs + 500 - Date.now()));
        step = { kind: 'redrive', name: step.name };
      }
    }
    state.last = result;
    for (const file of result.files) state.reports.set(Number(file.attachmentId), file satisfies FileReport);
  };

  const rng = new Rng(seed ^ 0x5eed);
  const killAt = new Map<number, number>();
  const latest = Math.max(1, Math.floor(plan.length * 0.85));
  for (let k = 0; k < Math.min(options.kills, latest); k++) {
    let at = rng.int(1, latest);
    while (killAt.has(at)) at = (at % latest) + 1;
    killAt.set(at, rng.int(200, 2500));
  }
  const passes: PassReport[] = [];
  const violations = new Set<string>();
  let activeSeconds = 0;
  let checked: PassCheck | undefined;
  try {
    let todo = [...states.values()];
    for (let pass = 0; pass <= (options.maxRounds ?? 3) && todo.length > 0; pass++) {
      const withFaults = pass <= 1 && options.faultRate > 0;
      faultsOn(withFaults);
      const before = counters.executions;
      const started = performance.now();
      let starts = 0;
      const kills: Promise<void>[] = [];
      await pool(todo, options.concurrency, (state) =>
        drive(state, pass, () => {
          if (pass !== 0) return;
          const delay = killAt.get(++starts);
          if (delay !== undefined) kills.push(sleep(delay).then(async () => {
            log(`soak: killing the runner (SIGKILL) after ${starts} starts + ${delay} ms`);
            await host.kill();
          }));
        }),
      );
      await Promise.all(kills);
      const seconds = (performance.now() - started) / 1000;
      activeSeconds += seconds;
      faultsOn(false);
      checked = await checkTickets(services, archive, [...states.values()]);
      const { done, violations: found, ...counts } = checked;
      for (const v of found) violations.add(v);
      passes.push({ pass, tickets: todo.length, executions: counters.executions - before, seconds: Math.round(seconds * 10) / 10, faults: withFaults, ...counts });
      log(`soak: pass ${pass}: ${todo.length} tickets in ${seconds.toFixed(1)} s; ${checked.archivedAndRedacted}/${allFiles.length} files archived and redacted; lost ${checked.lost}, redacted unverified ${checked.redactedUnverified}, redacted twice ${checked.redactedTwice}, stuck ${checked.stuckProcessing}`);
      todo = [...states.values()].filter((s) => !done.has(s.ticketId));
    }
  } finally {
    await host.close();
    await services.close();
    if (process.env.SOAK_KEEP_DATA) log(`soak: data kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }

  const worst = (key: 'lost' | 'redactedUnverified' | 'redactedTwice' | 'stuckProcessing' | 'unreported' | 'misreported') => Math.max(0, ...passes.map((p) => p[key]));
  const final = checked!;
  // Besides the injected ones: the per-ticket limit's own refusals (the product plans its redactions so as not to meet them).
  const byKind = { ...faults.counts, 'zendesk.ticketUpdateLimitReached': services.sandbox.rateLimitRefusals().ticketUpdates };
  const report: SoakReport = {
    seed: options.seed,
    settings: { tickets: options.tickets, faultRate: options.faultRate, concurrency: options.concurrency, kills: options.kills, sizes: options.sizes, lambdaTimeoutMs, perTicketUpdateLimit },
    tickets: plan.length,
    files: allFiles.length,
    bytes,
    archivable: allFiles.length,
    faults: { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind: Object.fromEntries(Object.entries(byKind).sort(([a], [b]) => a.localeCompare(b))) },
    kills: host.kills,
    runnerCrashes: host.crashes,
    interrupted: host.interrupted.length,
    ...counters,
    rounds: passes.length - 1,
    passes,
    notifications: services.notifications,
    lost: worst('lost'),
    redactedUnverified: worst('redactedUnverified'),
    redactedTwice: worst('redactedTwice'),
    stuckProcessing: worst('stuckProcessing'),
    unreported: worst('unreported'),
    misreported: worst('misreported'),
    archivedAndRedacted: final.archivedAndRedacted,
    throughput: {
      seconds: Math.round(activeSeconds * 10) / 10,
      filesPerSecond: Math.round((final.archivedAndRedacted / activeSeconds) * 100) / 100,
      mbPerSecond: Math.round((final.archivedBytes / 1e6 / activeSeconds) * 100) / 100,
    },
    violations: [...violations].slice(0, 20),
    ok: false,
  };
  report.ok =
    report.lost === 0 && report.redactedUnverified === 0 && report.redactedTwice === 0 && report.stuckProcessing === 0 && report.unreported === 0 && report.misreported === 0 && report.archivedAndRedacted === report.archivable;
  return report;
}
