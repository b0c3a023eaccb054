// A rollout: the plan's projects in waves, each wave behind a health gate, and a project that failed
// its start or its gate put back on its previous pin (stop, a new pin commit, start, gate again).
// Which wave goes next is the pure core's decision (reconcile/waves.ts); this runs it.
import type { Action, DesiredProject } from "../../reconcile/model.js";
import type { ActionResult } from "../../reconcile/apply.js";
import { nextWave } from "../../reconcile/waves.js";
import { listSessions } from "../adapters/tmux.js";
import { pollUntil } from "../common/poll.js";
import { expectedSessions, start, stop } from "./effects.js";
import type { HarnessRunOptions } from "../adapters/harness-run.js";
import { pin } from "./pin.js";

export interface RolloutOptions {
  waves: string[][];
  settleMs: number;
  maxFailures?: number;
  revert: boolean;
  /** the first wave is a canary: ask (unless `yes`) before the next */
  canary: boolean;
  yes: boolean;
  ask(next: string[]): Promise<boolean>;
  signal: AbortSignal;
  /** runs one wave's actions (the executor, with its journal and output) */
  run(actions: Action[]): Promise<ActionResult[]>;
  projects: DesiredProject[];
  harness: HarnessRunOptions;
  journal(line: Record<string, unknown>): void;
  note(text: string): void;
}

export interface Reverted {
  project: string;
  /** why the project failed */
  reason: string;
  /** how the revert ended, for a human */
  outcome: string;
}

export interface RolloutReport {
  results: ActionResult[];
  /** projects that failed, with why (reverted or not) */
  failed: { project: string; reason: string }[];
  reverted: Reverted[];
  /** projects of waves that never started */
  held: string[];
}

/**
 * Every session of each project must stay live for `ms`; the projects whose sessions did not, with
 * why. One tmux call per look serves the whole wave.
 */
export async function healthGate(
  projects: DesiredProject[],
  ms: number,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const wants = await Promise.all(projects.map(async (p) => ({ p, want: await expectedSessions(p) })));
  const failed = new Map<string, string>();
  const t0 = Date.now();
  await pollUntil(
    async () => {
      const live = await listSessions();
      for (const { p, want } of wants) {
        const down = want.filter((s) => !live.has(s));
        if (down.length && !failed.has(p.name))
          failed.set(
            p.name,
            `session ${down.join(", ")} was down ${((Date.now() - t0) / 1000).toFixed(1)} s into its ` +
              `${ms / 1000} s health gate`,
          );
      }
      return failed.size === wants.length;
    },
    ms,
    signal,
  );
  return failed;
}

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : "none";
}

/** Puts `p` back on the commit its pin came from, with a new commit; what happened, in words. */
async function revert(p: DesiredProject, done: Action, reason: string, o: RolloutOptions): Promise<string> {
  const backRef = done.fromRef ?? done.from!;
  const back: Action = {
    project: p.name,
    kind: "pin",
    reason: `revert: ${reason}`,
    ref: backRef,
    from: done.to,
    to: done.from,
  };
  const message =
    `Revert harness ${p.harness.name} to ${backRef}: ${done.ref} failed\n\n` +
    `${done.ref} (${short(done.to)}) failed: ${reason}.\n\n` +
    `${p.harness.path}: ${short(done.to)} → ${short(done.from)}\n`;
  const steps: [string, () => Promise<unknown>][] = [
    ["stop", () => stop(p, [], o.harness)],
    ["pin", () => pin(p, back, message)],
    ["start", () => start(p, o.harness)],
    ["health", async () => healthGate([p], o.settleMs).then((f) => f.get(p.name))],
  ];
  const journal = { project: p.name, ref: backRef, from: done.to, to: done.from, fromRef: done.ref };
  for (const [step, act] of steps) {
    const error = await act().then(
      (r) => (typeof r === "string" ? r : undefined),
      (e: Error) => e.message,
    );
    o.journal({ event: "revert", step, ...journal, outcome: error ? "failed" : "ok", ...(error ? { error } : {}) });
    if (error) return `revert to ${backRef} failed at ${step}: ${error}`;
  }
  return `reverted to ${backRef} (${short(done.from)}), its agents running`;
}

/** Why each project of a wave failed: a failed action, else a failed health gate. */
async function failuresOf(wave: string[], results: ActionResult[], o: RolloutOptions): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const r of results)
    if (r.outcome === "failed" && !failed.has(r.action.project))
      failed.set(r.action.project, `${r.action.kind} failed: ${r.error}`);
  const started = o.projects.filter(
    (p) =>
      wave.includes(p.name) &&
      !failed.has(p.name) &&
      results.some((r) => r.action.project === p.name && r.action.kind === "start" && r.outcome === "ok"),
  );
  if (started.length && o.settleMs > 0)
    for (const [name, why] of await healthGate(started, o.settleMs, o.signal)) {
      failed.set(name, `failed its health gate: ${why}`);
      o.journal({ event: "gate", project: name, outcome: "failed", error: why });
    }
  return failed;
}

export async function rollout(actions: Action[], o: RolloutOptions): Promise<RolloutReport> {
  const report: RolloutReport = { results: [], failed: [], reverted: [], held: [] };
  for (let i = 0; i < o.waves.length; i++) {
    const wave = o.waves[i];
    const decision = nextWave({
      failures: report.failed.length,
      maxFailures: o.maxFailures,
      next: i,
      canary: o.canary,
      yes: o.yes,
    });
    if (decision === "hold" || o.signal.aborted || (decision === "ask" && !(await o.ask(wave)))) {
      report.held = o.waves.slice(i).flat();
      for (const a of actions.filter((x) => report.held.includes(x.project)))
        report.results.push({ action: a, outcome: "skipped", error: "held: no further wave started", ms: 0 });
      for (const project of report.held) o.journal({ event: "held", project });
      break;
    }
    o.note(`Wave ${i + 1} of ${o.waves.length}: ${wave.join(", ")}`);
    const results = await o.run(actions.filter((a) => wave.includes(a.project)));
    report.results.push(...results);
    for (const [project, reason] of await failuresOf(wave, results, o)) {
      report.failed.push({ project, reason });
      const done = results.find((r) => r.action.project === project && r.action.kind === "pin" && r.outcome === "ok");
      const p = o.projects.find((x) => x.name === project)!;
      if (!o.revert || !done?.action.from) continue;
      o.note(`${project}: ${reason}; reverting to ${done.action.fromRef ?? short(done.action.from)}…`);
      report.reverted.push({ project, reason, outcome: await revert(p, done.action, reason, o) });
    }
  }
  return report;
}
