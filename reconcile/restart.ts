// po restart of one project as actions: stop its agents when any is live, then start them. One rule
// for both ends: the machine that plans a restart and the host that runs it under its own lock.
import type { Action, ActualProject, DesiredProject, PlanBody } from "./model.js";

/**
 * The restart of `p`, or why it cannot serve: `plan` is what an apply would do now. A restart
 * serves an enabled project with agents and nothing pending but a start.
 */
function restartOf(p: DesiredProject, a: ActualProject | undefined, plan: PlanBody): Action[] | string {
  const error = plan.errors.find((e) => e.project === p.name);
  // a project that was not observed (its host could not answer) has an error that says why
  if (error || !a) return `${p.name} cannot be planned: ${error?.message ?? "it was not observed"}`;
  if (!p.enabled) return `${p.name} is disabled; po start ${p.name} enables and starts it`;
  const pending = plan.actions.filter((x) => x.project === p.name && x.kind !== "start");
  if (pending.length)
    return (
      `${p.name} has changes pending (${pending.map((x) => x.kind).join(", ")}); apply them ` +
      `first (po apply ${p.name}), which restarts what needs it`
    );
  if (!a.sessions.length) return `${p.name} has no agents in its agents.toml`;
  const counts = `${a.live.length}/${a.sessions.length} sessions live`;
  const live = a.live.length > 0;
  return [
    ...(live ? [{ project: p.name, kind: "stop" as const, reason: `po restart: ${counts}`, restart: true }] : []),
    {
      project: p.name,
      kind: "start",
      reason: live ? `po restart: ${counts}` : `po restart: not running (${counts}); start it`,
      restart: live,
    },
  ];
}

/** The restarts of `projects`, in their order, or the first reason one of them cannot be restarted. */
export function restarts(
  projects: DesiredProject[],
  actual: Map<string, ActualProject>,
  plan: PlanBody,
): Action[] | string {
  const actions: Action[] = [];
  for (const p of projects) {
    const restart = restartOf(p, actual.get(p.name), plan);
    if (typeof restart === "string") return restart;
    actions.push(...restart);
  }
  return actions;
}
