// Apply across machines: this machine's actions through the local executor, each host's actions
// by that host's po in one ssh call, all at once (hosts bounded). Each host's results stream back
// as they happen, so they are journaled and printed here like local ones, with the host's name.
import type { ActionResult } from "../../reconcile/apply.js";
import type { Action, DesiredFleet, InventoryEntry } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { PROTOCOL, type ApplyEvent, type Interrupt, type Request } from "./protocol.js";
import { callHost, hostFailure } from "./ssh.js";
import { splitByHost, type HostWork } from "./observe-hosts.js";

export interface HostsApplyOptions {
  planId: string;
  parallelism: number;
  hostsParallelism: number;
  offline: boolean;
  lockTimeoutMs: number;
  /** po restart: each host checks the actions as a restart of its projects, not against its plan */
  restart: boolean;
  /**
   * Ctrl-C once, or a state write that failed here: start nothing new; Ctrl-C twice: stop what runs
   * (each host is told)
   */
  soft: AbortSignal;
  hard: AbortSignal;
  onStart(a: Action): void;
  onEnd(r: ActionResult): void;
  /** a host's state write that failed, as a line naming the host */
  onUnrecorded(line: string): void;
}

function parse(line: string): ApplyEvent | undefined {
  try {
    return JSON.parse(line) as ApplyEvent;
  } catch {
    return undefined;
  }
}

/** A host's whole apply: up to the harness timeouts of its actions, one after another, and a margin. */
function budgetMs(actions: Action[], w: HostWork): number {
  const timeouts = actions.map((a) => w.projects.find((p) => p.name === a.project)?.harness.timeoutMs ?? 120_000);
  return timeouts.reduce((s, t) => s + t, 0) + 120_000;
}

async function applyOnHost(w: HostWork, actions: Action[], opts: HostsApplyOptions): Promise<ActionResult[]> {
  const host = w.host.name;
  const names = new Set(actions.map((a) => a.project));
  const request: Request = {
    protocol: PROTOCOL,
    plan: opts.planId,
    projects: w.projects.filter((p) => names.has(p.name)),
    removed: w.removed.filter((e) => names.has(e.name)),
    offline: opts.offline,
    actions: actions.map(({ host: _, ...a }) => a),
    parallelism: opts.parallelism,
    lockTimeoutMs: opts.lockTimeoutMs,
    ...(opts.restart ? { restart: true } : {}),
  };
  const results: ActionResult[] = [];
  const args = ["remote", "apply", "--protocol", String(PROTOCOL)];
  const call = callHost(
    w.host,
    args,
    JSON.stringify(request),
    (line) => {
      const e = parse(line);
      if (e?.event === "start") opts.onStart({ ...e.action, host });
      if (e?.event === "end") {
        const r = { ...e.result, action: { ...e.result.action, host } };
        results.push(r);
        opts.onEnd(r);
      }
      if (e?.event === "unrecorded") opts.onUnrecorded(`host ${host}: ${e.line}`);
      if (e?.event === "done") call.end();
    },
    budgetMs(actions, w),
  );
  const tell = (signal: AbortSignal, what: Interrupt["interrupt"]) => {
    // why no new action starts, when it is not the operator's Ctrl-C: the host's skips say it
    const reason = () => (typeof signal.reason === "string" ? { reason: signal.reason } : {});
    const send = () => call.send(JSON.stringify({ interrupt: what, ...reason() }));
    // a host that waited for its turn (--hosts-parallelism) learns of an earlier interrupt at once
    if (signal.aborted) send();
    else signal.addEventListener("abort", send, { once: true });
    return send;
  };
  const soft = tell(opts.soft, "soft");
  const hard = tell(opts.hard, "hard");
  const r = await call.done;
  opts.soft.removeEventListener("abort", soft);
  opts.hard.removeEventListener("abort", hard);
  // What the host never reported on failed with the host's reason (lock held, stale, unreachable).
  const why = r.code === 0 ? `host ${host} did not report this action` : hostFailure(w.host, r);
  for (const a of actions.filter(
    (x) => !results.some((y) => y.action.project === x.project && y.action.kind === x.kind),
  )) {
    const failed: ActionResult = { action: a, outcome: "failed", error: why, ms: 0 };
    results.push(failed);
    opts.onEnd(failed);
  }
  return results;
}

/** Runs the local actions with `local` and every host's on that host; all results. */
export async function applyEverywhere(
  fleet: DesiredFleet,
  removed: InventoryEntry[],
  actions: Action[],
  local: (actions: Action[]) => Promise<ActionResult[]>,
  opts: HostsApplyOptions,
): Promise<ActionResult[]> {
  const split = splitByHost(fleet.hosts ?? [], fleet.projects, removed);
  const work = split.remote
    .map((w) => ({ w, actions: actions.filter((a) => a.host === w.host.name) }))
    .filter((x) => x.actions.length);
  const [here, there] = await Promise.all([
    local(actions.filter((a) => !a.host)),
    mapLimit(work, opts.hostsParallelism, (x) => applyOnHost(x.w, x.actions, opts)),
  ]);
  return [...here, ...there.flat()];
}
