// The executor's port: each action kind performed against git, the harness and tmux.
import { dirname } from "node:path";
import { existsSync, mkdirSync } from "node:fs";
import type { Action, DesiredProject, InventoryEntry } from "../../reconcile/model.js";
import type { ApplyPorts } from "../../reconcile/apply.js";
import { planProject } from "../../reconcile/plan.js";
import { loadAgents } from "../registry/agents-file.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { waitForSessions } from "./harness.js";
import { runHarness, type HarnessRunOptions } from "../adapters/harness-run.js";
import { observeProject } from "../observe/observe.js";
import { checkPinnable, pin } from "./pin.js";
import { resolver } from "../observe/resolve-ref.js";
import { killDeadSessions, killSession, listSessions, sessionName } from "../adapters/tmux.js";
import { agentLogTail } from "../agents/session.js";
import { lastLines } from "../common/tail.js";
import { pollUntil } from "../common/poll.js";

type Target = Pick<DesiredProject, "name" | "location" | "harness">;

async function agentSessions(p: Target): Promise<{ agent: string; session: string }[]> {
  const { config } = await loadAgents(p.location).catch(() => ({ config: undefined }));
  return (config?.agents ?? []).map((a) => ({
    agent: a.name,
    session: sessionName(p.location, a.name, p.harness.session),
  }));
}

export async function expectedSessions(p: Target): Promise<string[]> {
  return (await agentSessions(p)).map((a) => a.session);
}

/**
 * Why sessions did not come up, where the operator (or an agent) looks first: the last lines of
 * each missing agent's log (the reference runtime keeps one per agent), else the harness's output.
 */
function startCause(p: Target, missing: string[], output: string): string {
  const logs = missing.map((agent) => [agent, agentLogTail(p.location, agent)] as const);
  const told = logs.filter(([, lines]) => lines.length);
  if (told.length) return told.map(([agent, lines]) => `${agent}'s log ends: ${lines.join(" | ")}`).join("; ");
  const out = lastLines(output, 3);
  return out.length ? `the harness said: ${out.join(" | ")}` : "no agent log and no harness output tell why";
}

/** How a start or stop runs the harness: as any harness run, and its output kept by `record`. */
type StartStopRun = HarnessRunOptions & Pick<EffectsOptions, "record">;

/** The run options of one project's harness up or down, its output told to `record`. */
function runOf(p: Target, verb: "up" | "down", run: StartStopRun): HarnessRunOptions {
  return { ...run, output: (text, outcome) => run.record?.(p.name, verb, text, outcome) };
}

/** A failed start is undone with the harness `down`, so no session or harness process lingers. */
export async function start(p: Target, run: StartStopRun): Promise<void> {
  try {
    const agents = await agentSessions(p);
    const want = agents.map((a) => a.session);
    // A session kept open around a dead process would make an idempotent `up` skip that agent.
    await killDeadSessions(want);
    const { all: output } = await runHarness(p.harness, "up", p.location, runOf(p, "up", run));
    await waitForSessions(
      (live) => want.every((s) => live.has(s)),
      p.harness.timeoutMs,
      (live) => {
        const missing = agents.filter((a) => !live.has(a.session));
        const cause = startCause(
          p,
          missing.map((a) => a.agent),
          output,
        );
        return (
          `harness up finished but not every session of ${p.name} came up ` +
          `(${missing.map((a) => a.session).join(", ")} not live): ${cause}`
        );
      },
    );
  } catch (e) {
    const undo = await runHarness(p.harness, "down", p.location, runOf(p, "down", run)).then(
      () => "harness down was run, so nothing of it is left running",
      (e2: Error) => `harness down failed too: ${e2.message}`,
    );
    throw new Error(`${(e as Error).message}; ${undo}`);
  }
}

/**
 * Stopping needs nothing but the sessions: the harness `down` where the project still is, then
 * every session po knows of it (its agents.toml, else what the inventory recorded) that is still
 * live is killed by name, e.g. when agents.toml is broken or the folder was moved away.
 */
export async function stop(p: Target, known: string[], run: StartStopRun): Promise<void> {
  const down = existsSync(p.location)
    ? await runHarness(p.harness, "down", p.location, runOf(p, "down", run)).then(
        () => undefined,
        (e: Error) => e.message,
      )
    : `${p.location} no longer exists`;
  const want = [...new Set([...(await expectedSessions(p)), ...known])];
  const gone = (live: Set<string>) => !want.some((s) => live.has(s));
  if (down === undefined && (await pollUntil(async () => gone(await listSessions()), p.harness.timeoutMs))) return;
  const left = [...(await listSessions())].filter((s) => want.includes(s));
  for (const s of left) await killSession(s);
  const why = down ?? "harness down left sessions live";
  process.stderr.write(`po: warning: ${p.name}: ${why}; stopped its sessions by name: ${left.join(", ") || "none"}\n`);
  await waitForSessions(gone, p.harness.timeoutMs, () => `sessions of ${p.name} are still live after stopping`);
}

/** One orphan session (its agent left agents.toml): exactly that session, nothing else. */
async function stopOrphan(session: string): Promise<void> {
  await killSession(session);
  await waitForSessions(
    (live) => !live.has(session),
    10_000,
    () => `session ${session} is still live after kill-session`,
  );
}

/**
 * A plain clone: the project's submodules are not fetched here. Apply plans the project again, and
 * the `init` that follows fetches the harness submodule alone (the only one allowed a file url).
 */
async function clone(p: DesiredProject): Promise<void> {
  mkdirSync(dirname(p.location), { recursive: true });
  await gitRaw(dirname(p.location), ["clone", "--quiet", "--end-of-options", p.url!, p.location]).catch((e) => {
    throw new Error(`git clone of ${p.url} into ${p.location} failed: ${gitMessage(e)}`);
  });
}

/** The harness submodule and its own nested submodules; file urls allowed for the harness only. */
async function init(p: DesiredProject): Promise<void> {
  const args = ["submodule", "update", "--init", "--recursive", "--quiet", "--", p.harness.path];
  await gitRaw(p.location, args, true).catch((e) => {
    throw new Error(`git submodule update --init ${p.harness.path} in ${p.location} failed: ${gitMessage(e)}`);
  });
}

/**
 * A pin that fails after its project was stopped for it (the restart around a pin) starts the
 * agents again on the old harness, so a refused pin does not leave the project down.
 */
async function pinOrRestore(p: DesiredProject, action: Action, stopped: boolean, run: EffectsOptions): Promise<void> {
  try {
    await pin(p, action);
  } catch (e) {
    if (!stopped) throw e;
    const again = await start(p, run).then(
      () => "its agents were started again on the old harness",
      (e2: Error) => `starting its agents again failed too: ${e2.message}`,
    );
    throw new Error(`${(e as Error).message}; ${again}`);
  }
}

export interface Effects extends ApplyPorts {
  replan(project: string): Promise<Action[]>;
}

export interface EffectsOptions extends HarnessRunOptions {
  offline: boolean;
  /** the session names observed (or recorded) for each project when the plan was made */
  sessions?: Map<string, string[]>;
  /** keeps what a project's harness up or down printed (po logs --harness) */
  record?(project: string, verb: "up" | "down", text: string, outcome: string): void;
  /** .ao-state: the harness mirrors that resolve refs, as for the plan */
  stateDir?: string;
}

export function effects(
  projects: DesiredProject[],
  removed: InventoryEntry[],
  actions: Action[],
  opts: EffectsOptions,
): Effects {
  const byName = new Map(projects.map((p) => [p.name, p]));
  const gone = new Map(removed.map((e) => [e.name, e]));
  const pins = new Map(actions.filter((a) => a.kind === "pin").map((a) => [a.project, a]));
  const stoppedForPin = new Set<string>();
  return {
    async run(action) {
      const p = byName.get(action.project);
      const known = opts.sessions?.get(action.project) ?? [];
      if (action.session !== undefined) return stopOrphan(action.session);
      if (action.removed || !p) return stop(gone.get(action.project)!, known, opts);
      switch (action.kind) {
        case "clone":
          return clone(p);
        case "init":
          return init(p);
        case "stop":
          if (!action.restart || !pins.has(p.name)) return stop(p, known, opts);
          // The stop before a pin happens only when the pin can go ahead: a refused pin leaves the agents running.
          await checkPinnable(p, pins.get(p.name)!);
          await stop(p, known, opts);
          stoppedForPin.add(p.name);
          return;
        case "pin":
          return pinOrRestore(p, action, stoppedForPin.has(p.name), opts);
        case "start":
          return start(p, opts);
      }
    },
    async replan(project) {
      const p = byName.get(project)!;
      const actual = await observeProject(p, await listSessions(), resolver(opts.offline, opts.stateDir));
      const body = planProject(p, actual);
      if (body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
      pins.delete(project);
      for (const a of body.actions.filter((x) => x.kind === "pin")) pins.set(project, a);
      return body.actions;
    },
  };
}
