// The planner: desired state and observed actual state in, the actions that converge them out.
// Pure: no I/O, no clock, no randomness, so the same inputs always give the same plan.

import { ACTION_ORDER, sessionState } from "./model.js";
import type {
  Action,
  ActionKind,
  ActualProject,
  DesiredProject,
  InventoryEntry,
  PlanBody,
  PlanError,
} from "./model.js";

export type PlanSummary = Record<ActionKind, number> & { errors: number };

export function planFleet(
  desired: DesiredProject[],
  actual: Map<string, ActualProject>,
  inventory: InventoryEntry[],
  actualRemoved: Map<string, ActualProject>,
): PlanBody {
  const body: PlanBody = { actions: [], errors: [] };
  for (const d of desired) {
    const a = actual.get(d.name);
    // An unobserved project is a bug in the caller; say so rather than guess at its state.
    const p = a ? planProject(d, a) : fail(d.name, ["its actual state was not observed"]);
    body.actions.push(...p.actions);
    body.errors.push(...p.errors);
  }
  body.actions.push(...planRemoved(desired, inventory, actualRemoved));
  return { actions: sortActions(body.actions), errors: body.errors.sort(byProject) };
}

/** Plan one project. The executor also calls this (through its replan port) on a freshly cloned project. */
export function planProject(d: DesiredProject, a: ActualProject): PlanBody {
  const orphans = orphanStops(d.name, a);
  // A clone is planned again once it is there; a folder that is just gone still has sessions to stop.
  if (!a.exists) return d.url ? planMissing(d) : withStops(planMissing(d), stopsOnly(d, a, orphans));
  const problems = blockers(d, a);
  // Errors are per project: a project we cannot reason about gets no pin or start, the others still plan.
  // Stopping needs nothing but the sessions, so a disabled project's and orphans' stops are planned anyway.
  if (problems.length > 0) return withStops(fail(d.name, problems), stopsOnly(d, a, orphans));
  return { actions: sortActions([...converge(d, a), ...orphans]), errors: [] };
}

function stopsOnly(d: DesiredProject, a: ActualProject, orphans: Action[]): Action[] {
  return d.enabled ? orphans : [...disabledSessions(d, a), ...orphans];
}

function withStops(body: PlanBody, stops: Action[]): PlanBody {
  return { actions: sortActions([...body.actions, ...stops]), errors: body.errors };
}

/** Live sessions that po recorded for this project and whose agents left its agents.toml: each stopped alone. */
function orphanStops(project: string, a: ActualProject): Action[] {
  return (a.orphans ?? []).map((session) => ({
    ...act(project, "stop", `its agent left agents.toml; session ${session} is live`),
    session,
  }));
}

export function summarize(plan: PlanBody): PlanSummary {
  const counts = { clone: 0, init: 0, stop: 0, pin: 0, start: 0, errors: plan.errors.length };
  for (const a of plan.actions) counts[a.kind] += 1;
  return counts;
}

// A missing location can only be cloned. Pin and init are not decided here: the executor re-plans the
// project with planProject right after the clone, when its submodule and agents can be observed.
function planMissing(d: DesiredProject): PlanBody {
  if (!d.url) {
    const msg =
      `location ${d.location} does not exist and the project has no url to clone it from; ` +
      `create it (po create) or add url`;
    return fail(d.name, [msg]);
  }
  // What follows the clone (init, pin, start) is decided on what the clone contains; the plan line says so.
  return { actions: [act(d.name, "clone", `location ${d.location} does not exist; clone ${d.url}`)], errors: [] };
}

/** Everything that stops us from planning a project that exists, each as a message for the operator. */
function blockers(d: DesiredProject, a: ActualProject): string[] {
  if (!a.isRepo) return [`location ${d.location} exists but is not a git repository`];
  const path = d.harness.path;
  const out: string[] = [];
  if (a.pinned === undefined) {
    out.push(
      `there is no submodule at ${path} in ${d.location}; add it with \`git submodule add ${d.harness.url} ${path}\``,
    );
  }
  if (a.harnessBlocked !== undefined) out.push(a.harnessBlocked);
  if (a.agentsError !== undefined) out.push(`cannot read its agents: ${a.agentsError}`);
  if (a.resolved === undefined) {
    out.push(a.resolveError ?? `cannot resolve ref '${d.ref}' of harness ${d.harness.name}`);
  }
  // Local changes and a blocked repo only matter when we would check out or commit.
  if (pinNeeded(a) && a.dirty !== undefined) {
    out.push(`${path} has local changes (${a.dirty}); commit or discard them, then plan again`);
  }
  if (pinNeeded(a) && a.repoBlocked !== undefined) {
    out.push(`cannot commit a new pin of ${path}: ${a.repoBlocked}`);
  }
  if (pinNeeded(a) && a.unreachable !== undefined) {
    out.push(
      `${path} has commit ${short(a.unreachable)} checked out that no branch or tag reaches; checking out ` +
        `another commit would lose it: put a branch on it (git -C ${path} branch NAME), then plan again`,
    );
  }
  // A pin brings nested submodules along; without one, stale ones must not pass for converged.
  if (!pinNeeded(a) && a.nestedStale !== undefined) {
    out.push(
      `nested submodules of ${path} are not on the commits it records (${a.nestedStale}); ` +
        `run git -C ${path} submodule update --init --recursive, then plan again`,
    );
  }
  return out;
}

/** Whether the submodule must be pinned anew; observation asks git about local changes only then. */
export function pinNeeded(a: ActualProject): boolean {
  if (a.resolved === undefined || a.pinned === undefined) return false;
  if (a.pinned !== a.resolved) return true;
  return a.checkedOut !== undefined && a.checkedOut !== a.resolved;
}

function converge(d: DesiredProject, a: ActualProject): Action[] {
  const actions: Action[] = [];
  if (a.checkedOut === undefined) {
    actions.push(act(d.name, "init", `submodule ${d.harness.path} is not initialized`));
  }
  const pinning = pinNeeded(a);
  if (pinning) actions.push(pinAction(d, a));
  actions.push(...(d.enabled ? enabledSessions(d, a, pinning) : disabledSessions(d, a)));
  return actions;
}

function pinAction(d: DesiredProject, a: ActualProject): Action {
  // pinNeeded: a pin is planned only when the pin and the ref's commit are known, and a checkout that differs
  const [pinned, resolved] = [a.pinned!, a.resolved!];
  const reason =
    pinned !== resolved
      ? a.refIsBranch
        ? `branch ${d.ref} moved: ${d.harness.path} is pinned at ${short(pinned)}; ${d.ref} is now ${short(resolved)}`
        : `${d.harness.path} is pinned at ${short(pinned)}; ref ${d.ref} is ${short(resolved)}`
      : `${d.harness.path} has ${short(a.checkedOut!)} checked out; it is pinned at ${short(pinned)}`;
  return { ...act(d.name, "pin", reason), ref: d.ref, from: a.pinned, to: a.resolved };
}

function enabledSessions(d: DesiredProject, a: ActualProject, pinning: boolean): Action[] {
  const state = sessionState(a);
  if (state === "no-agents") return [];
  const counts = `${a.live.length}/${a.sessions.length} sessions live`;
  // Live agents must not run on a harness that changes under them: stop, pin, start again.
  if (pinning && a.live.length > 0) {
    return [
      { ...act(d.name, "stop", `restart around the pin (${counts})`), restart: true },
      { ...act(d.name, "start", "restart after the pin"), restart: true },
    ];
  }
  if (state === "running") return [];
  return [act(d.name, "start", `${state}: ${counts}`)];
}

function disabledSessions(d: DesiredProject, a: ActualProject): Action[] {
  if (a.live.length === 0) return [];
  return [act(d.name, "stop", `disabled: ${a.live.length}/${a.sessions.length} sessions live`)];
}

// Projects that left fleet.toml are only ever stopped: their files are the operator's, never ours.
function planRemoved(
  desired: DesiredProject[],
  inventory: InventoryEntry[],
  actualRemoved: Map<string, ActualProject>,
): Action[] {
  const kept = new Set(desired.map((d) => d.name));
  const out: Action[] = [];
  for (const e of inventory) {
    if (kept.has(e.name)) continue;
    kept.add(e.name); // a duplicate inventory entry must not stop twice
    if ((actualRemoved.get(e.name)?.live.length ?? 0) === 0) continue;
    out.push({ ...act(e.name, "stop", "removed from fleet.toml; its files are kept"), removed: true });
  }
  return out;
}

function act(project: string, kind: ActionKind, reason: string): Action {
  return { project, kind, reason };
}

function fail(project: string, messages: string[]): PlanBody {
  return { actions: [], errors: messages.map((message): PlanError => ({ project, message })) };
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byProject(a: { project: string }, b: { project: string }): number {
  return compare(a.project, b.project);
}

/** By project name (plain code-unit order, so it does not depend on the locale), then ACTION_ORDER. */
function sortActions(actions: Action[]): Action[] {
  return [...actions].sort((a, b) => byProject(a, b) || ACTION_ORDER.indexOf(a.kind) - ACTION_ORDER.indexOf(b.kind));
}
