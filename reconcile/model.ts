// The reconciler's data: desired state in, actual state in, plan out. Plain data only, no I/O.

export interface HarnessSpec {
  name: string;
  url: string;
  /** submodule path inside each project */
  path: string;
  up: string[];
  down: string[];
  /** optional: prints one JSON line per agent (agent, state, since, detail) */
  status?: string[];
  /** tmux session template: {dir} and {agent} */
  session: string;
  timeoutMs: number;
}

export interface DesiredProject {
  name: string;
  /** absolute path */
  location: string;
  harness: HarnessSpec;
  ref: string;
  enabled: boolean;
  url?: string;
  /** the host it lives on ([hosts.NAME]); absent: this machine. `location` is then that host's path, as written */
  host?: string;
}

/** Another machine: reached with `ssh`, where `po` (argv) observes and acts. */
export interface HostSpec {
  name: string;
  ssh: string;
  po: string[];
}

export interface DesiredFleet {
  /** absolute path of fleet.toml */
  path: string;
  projects: DesiredProject[];
  hosts?: HostSpec[];
  /** optional: run once per event of po, the event as JSON on stdin */
  notify?: string[];
  /** [rollout]: defaults for waves, the health gate and revert */
  rollout?: RolloutDefaults;
}

export interface RolloutDefaults {
  /** projects per wave: a number, or "P%" */
  wave?: number | string;
  canary?: number;
  settleS?: number;
  maxFailures?: number;
  revert?: boolean;
}

/** What po recorded of a project at the last apply, so that a project removed from fleet.toml can be stopped. */
export interface InventoryEntry {
  name: string;
  location: string;
  harness: HarnessSpec;
  /** the tmux session names of its agents at that apply: what stop falls back on, and how orphans are known */
  sessions?: string[];
  host?: string;
}

export interface ActualProject {
  name: string;
  /** the location exists */
  exists: boolean;
  /** the location is a git work tree */
  isRepo: boolean;
  /** why the repository cannot take a commit now (merge or rebase in progress, detached HEAD) */
  repoBlocked?: string;
  /** commit of the gitlink at the harness path in HEAD; undefined when there is none */
  pinned?: string;
  /** commit checked out in the submodule; undefined when it is not initialized */
  checkedOut?: string;
  /** commit the desired ref resolves to; undefined when it cannot be resolved */
  resolved?: string;
  /** the desired ref is a branch of the harness (it moves; a pin to it says so) */
  refIsBranch?: boolean;
  /** why the ref could not be resolved */
  resolveError?: string;
  /** local changes or untracked files inside the submodule, described; undefined when clean */
  dirty?: string;
  /** why po must not touch the submodule at all (e.g. it is a symlink to a checkout elsewhere) */
  harnessBlocked?: string;
  /** the submodule's HEAD when no branch or tag reaches it and HEAD does not pin it: checking out away loses it */
  unreachable?: string;
  /** nested submodules of the harness that are not on the commits it records, described */
  nestedStale?: string;
  /** agent names (keys of [agents] in the project's agents.toml) */
  agents: string[];
  /** why the agents could not be read (e.g. malformed agents.toml) */
  agentsError?: string;
  /** tmux session names expected for the agents, in agent order */
  sessions: string[];
  /** those of `sessions` that are live */
  live: string[];
  /** live sessions the inventory records for this project whose agents left its agents.toml */
  orphans?: string[];
}

export type ActionKind = "clone" | "init" | "stop" | "pin" | "start";

/** The order of actions within one project. */
export const ACTION_ORDER: readonly ActionKind[] = ["clone", "init", "stop", "pin", "start"];

export interface Action {
  project: string;
  kind: ActionKind;
  /** why, for a human */
  reason: string;
  /** pin: the desired ref and the commits from and to */
  ref?: string;
  from?: string;
  to?: string;
  /** pin: a tag that names `from`, filled in by the caller for display */
  fromRef?: string;
  /** stop/start: true when this stop/start is the restart around a pin */
  restart?: boolean;
  /** stop: the project left fleet.toml; act with the inventory's harness */
  removed?: boolean;
  /** stop: only this orphan session (its agent left agents.toml) */
  session?: string;
  /** the host whose po runs this action; absent: this machine */
  host?: string;
}

export interface PlanError {
  project: string;
  message: string;
}

export interface PlanBody {
  actions: Action[];
  errors: PlanError[];
}

export type ProjectState = "running" | "degraded" | "stopped" | "no-agents";

export function sessionState(actual: Pick<ActualProject, "sessions" | "live">): ProjectState {
  if (actual.sessions.length === 0) return "no-agents";
  if (actual.live.length === 0) return "stopped";
  return actual.live.length === actual.sessions.length ? "running" : "degraded";
}
