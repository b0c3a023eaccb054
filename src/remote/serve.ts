// The remote end of the protocol: what `po remote observe|apply|info` does on a host for the po
// that called it over ssh. The same observation, planner and effects as a local plan and apply;
// an apply runs under this host's own apply lock and re-checks its plan under it.
import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ActionResult } from "../../reconcile/apply.js";
import { applyPlan } from "../../reconcile/apply.js";
import type { Action, DesiredProject, InventoryEntry } from "../../reconcile/model.js";
import { planFleet } from "../../reconcile/plan.js";
import { restarts } from "../../reconcile/restart.js";
import { expandLocation } from "../registry/fleet.js";
import { isRemotePath } from "../registry/fleet-hosts.js";
import { observeFleet } from "../observe/observe.js";
import { agentStates } from "../observe/agent-state.js";
import { effects } from "../act/effects.js";
import { settleOrphans } from "../act/harness.js";
import { acquireLock, journal, lockHolder } from "../state/state.js";
import { projectProblems } from "../registry/validate-deep.js";
import { UserError } from "../common/problems.js";
import { beforeActing, keptHarness, unrecorded } from "../state/unrecorded.js";
import { PROTOCOL, hostStateDir, poVersion, type ApplyEvent, type InfoReply } from "./protocol.js";
import type { ObserveReply, Request, ValidateReply } from "./protocol.js";

/** A location as written in fleet.toml for this host: ~/… is this host's home; relative means nothing here. */
export function here<T extends { name: string; location: string }>(p: T): T {
  if (!isRemotePath(p.location))
    throw new UserError(`project ${p.name}: location '${p.location}' is neither absolute nor ~/… on this host`);
  return { ...p, location: expandLocation(p.location, homedir()) };
}

function localized(req: Request): { projects: DesiredProject[]; removed: InventoryEntry[] } {
  return { projects: req.projects.map(here), removed: req.removed.map(here) };
}

export async function serveObserve(req: Request): Promise<ObserveReply> {
  const { projects, removed } = localized(req);
  const obs = await observeFleet(projects, removed, { offline: req.offline, stateDir: hostStateDir() });
  // the tag names come from this host's mirror, which the observation just brought up to date
  const tags: Record<string, string> = {};
  for (const p of projects) {
    const pinned = obs.actual.get(p.name)?.pinned;
    const tag = pinned && (await obs.refs.tagOf(p.harness, pinned, join(p.location, p.harness.path)));
    if (tag) tags[p.name] = tag;
  }
  const actual = [...obs.actual.values()];
  const reply = { protocol: PROTOCOL, po: poVersion(), actual, removed: [...obs.removed.values()], tags };
  if (!req.agents) return reply;
  // po status: the agents as this host's tmux sees them, and the harness status argv run here, where the project is
  const pairs = projects
    .filter((p) => obs.actual.has(p.name))
    .map((p) => ({ desired: p, actual: obs.actual.get(p.name)! }));
  const agents = await agentStates(pairs, obs.sessions, { harness: req.agents.harness });
  return { ...reply, agents: Object.fromEntries(agents) };
}

/** po validate --deep of this host's projects: the same checks as for a project on the caller's machine. */
export async function serveValidate(req: Request): Promise<ValidateReply> {
  const found = await Promise.all(
    localized(req).projects.map(async (p) =>
      (await projectProblems(p)).map((message) => ({ project: p.name, message })),
    ),
  );
  return { protocol: PROTOCOL, po: poVersion(), problems: found.flat() };
}

/** What an action does, without what only explains it (reason, the display name of a commit, its host). */
const essence = (a: Action) => JSON.stringify([a.project, a.kind, a.from, a.to, a.restart, a.removed]);

/** Interrupts from the caller; its stdin ending (the caller died or lost the connection) is a soft one. */
export interface Interrupts {
  soft: AbortController;
  hard: AbortController;
}

/**
 * Runs this host's actions of the caller's plan, telling each event through `emit`. A state write
 * that fails once actions could run (a full disk) is told as it happens, in one line saying what was
 * done and what could not be recorded where, and starts no new action, as in a local apply.
 */
export async function serveApply(req: Request, interrupts: Interrupts, emit: (e: ApplyEvent) => void): Promise<void> {
  const { projects, removed } = localized(req);
  const actions = req.actions ?? [];
  const state = hostStateDir();
  const lock = await acquireLock(state, req.lockTimeoutMs ?? 0);
  let stopJournaling = () => {};
  try {
    if (lock.tookOver) await settleOrphans(lock.tookOver.children ?? [], () => {}, interrupts.soft.signal);
    emit({ event: "locked", protocol: PROTOCOL, po: poVersion() });
    // Under the lock, the world must still be what the plan was made from: another po may have acted since.
    const obs = await observeFleet(projects, removed, { offline: req.offline, stateDir: hostStateDir() });
    const fresh = planFleet(projects, obs.actual, removed, obs.removed);
    const mine = new Set(actions.map((a) => a.project));
    // po restart's actions are checked as the restart of those projects, which a plan never contains
    const expected = req.restart ? restarts(projects, obs.actual, fresh) : fresh.actions;
    if (typeof expected === "string") throw new UserError(`restart: ${expected}`);
    const now = expected.filter((a) => mine.has(a.project)).map(essence);
    if (JSON.stringify(now) !== JSON.stringify(actions.map(essence)))
      throw new UserError(`the plan is stale for this host: its projects changed since they were planned; plan again`);
    const plan = req.plan ?? "remote";
    beforeActing(() => journal(state, { plan, event: "apply-start", pid: process.pid, actions: actions.length }));
    const lost = unrecorded((line) => emit({ event: "unrecorded", line }));
    const soft = interrupts.soft.signal;
    const interrupted = () =>
      lost.journal(state, {
        plan,
        event: "interrupted",
        ...(typeof soft.reason === "string" ? { error: soft.reason } : {}),
      });
    if (soft.aborted) interrupted();
    else soft.addEventListener("abort", interrupted, { once: true });
    stopJournaling = () => soft.removeEventListener("abort", interrupted);
    const ports = effects(projects, removed, actions, {
      offline: req.offline,
      stateDir: state,
      signal: interrupts.hard.signal,
      // harness logs kept here, where po logs --harness of this host's projects reads them
      ...keptHarness(lost, lock, state, `apply ${plan}`),
    });
    const results: ActionResult[] = await applyPlan(actions, ports, {
      parallelism: req.parallelism ?? 4,
      signal: AbortSignal.any([soft, lost.signal]),
      onStart: (action) => {
        lost.journal(state, { plan, project: action.project, action: action.kind, event: "start" });
        emit({ event: "start", action });
      },
      onEnd: (result) => {
        const { action, outcome, ms, error } = result;
        lost.journal(state, { plan, project: action.project, action: action.kind, event: "end", outcome, ms, error });
        emit({ event: "end", result });
      },
    });
    const count = (o: ActionResult["outcome"]) => results.filter((r) => r.outcome === o).length;
    const [ok, failed, skipped] = [count("ok"), count("failed"), count("skipped")];
    const outcome = soft.aborted ? "interrupted" : ok === actions.length ? "converged" : "not converged";
    lost.journal(state, { plan, event: "apply-end", outcome, ok, failed, skipped });
    emit({ event: "done" });
  } finally {
    stopJournaling();
    lock.release();
  }
}

function tmuxVersion(): Promise<string> {
  return new Promise((resolve) =>
    execFile("tmux", ["-V"], { timeout: 10_000, encoding: "utf8" }, (e, out) =>
      resolve(e ? "not installed" : out.trim().replace(/^tmux /, "")),
    ),
  );
}

export async function serveInfo(): Promise<InfoReply> {
  const state = hostStateDir();
  return { protocol: PROTOCOL, po: poVersion(), tmux: await tmuxVersion(), lock: lockHolder(state) ?? null, state };
}
