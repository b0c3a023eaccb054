// po apply in waves: the rollout policy turned into waves and run (src/act/rollout.ts), the canary
// question asked, and the outcome told: failed, reverted and held projects.
import type { Action, DesiredProject } from "../../reconcile/model.js";
import type { ActionResult } from "../../reconcile/apply.js";
import { splitWaves } from "../../reconcile/waves.js";
import { rollout, type RolloutReport } from "../act/rollout.js";
import type { HarnessRunOptions } from "../adapters/harness-run.js";
import { confirm, type Interrupt } from "./interrupt.js";
import type { RolloutPolicy } from "./rollout-options.js";

export interface RolloutContext {
  actions: Action[];
  projects: DesiredProject[];
  yes: boolean;
  json: boolean;
  interrupt: Interrupt;
  harness: HarnessRunOptions;
  run(actions: Action[]): Promise<ActionResult[]>;
  journal(line: Record<string, unknown>): void;
}

export function rollOut(policy: RolloutPolicy, c: RolloutContext): Promise<RolloutReport> {
  const projects = [...new Set(c.actions.map((a) => a.project))];
  return rollout(c.actions, {
    waves: splitWaves(projects, policy),
    settleMs: policy.settleS * 1000,
    maxFailures: policy.maxFailures,
    revert: policy.revert,
    canary: policy.canary !== undefined,
    yes: c.yes,
    ask: async (next) => {
      if (c.json || !process.stdin.isTTY) return false;
      process.stdout.write(`\nThe canary wave passed; the next wave is ${next.join(", ")}.`);
      return confirm(c.interrupt);
    },
    signal: c.interrupt.soft,
    run: c.run,
    projects: c.projects,
    harness: c.harness,
    journal: c.journal,
    note: (text) => c.json || process.stdout.write(`${text}\n`),
  });
}

/** The lines an operator reads after a rollout: each failed, reverted and held project. */
export function rolloutText(r: RolloutReport): string {
  const lines = [
    ...r.failed
      .filter((f) => !r.reverted.some((x) => x.project === f.project))
      .map((f) => `${f.project}: FAILED, left as it is: ${f.reason}`),
    ...r.reverted.map((x) => `${x.project}: REVERTED: ${x.reason}; ${x.outcome}`),
    ...(r.held.length ? [`held (no further wave started, unchanged): ${r.held.join(", ")}`] : []),
  ];
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** The rollout's part of apply --json: failed, reverted and held projects. */
export function rolloutJson(r: RolloutReport | undefined): object {
  return r ? { failed: r.failed, reverted: r.reverted, held: r.held } : {};
}

/** What a pin's journal line records: the wanted ref, the commits from and to, the tag of `from`. */
export function pinRecord(a: Action): Record<string, string | undefined> {
  return a.kind === "pin" ? { ref: a.ref, from: a.from, to: a.to, fromRef: a.fromRef } : {};
}
