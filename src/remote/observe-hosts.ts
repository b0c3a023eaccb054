// Observation across machines: this machine's projects as always, every other host's by its own
// po in one ssh call per host (hosts in parallel, bounded). A host that cannot answer turns its
// projects into plan errors that name it; the other hosts are not held up.
import { join } from "node:path";
import type { ActualProject, DesiredFleet, DesiredProject, HostSpec, InventoryEntry } from "../../reconcile/model.js";
import type { Action, PlanBody, PlanError } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { observeFleet, type Observation } from "../observe/observe.js";
import { pinnedCommit } from "../observe/releases.js";
import type { ProjectAgents } from "../observe/agent-state.js";
import { PROTOCOL, poVersion, type ObserveReply, type Request } from "./protocol.js";
import { callHost, hostFailure } from "./ssh.js";

export const HOSTS_PARALLELISM = 8;
const OBSERVE_TIMEOUT_MS = 300_000;

export interface HostsOptions {
  offline: boolean;
  /** hosts worked with at once */
  hostsParallelism: number;
  /** what the last apply recorded of each project (session names, for stops and orphans here) */
  inventory?: InventoryEntry[];
  /** .ao-state beside fleet.toml: where the harness mirrors live */
  stateDir?: string;
  /** po status: each remote project's agents, told by its host (see Request.agents) */
  agents?: Request["agents"];
}

/** One host's share: its projects and the inventory entries of its projects that left the fleet. */
export interface HostWork<T = DesiredProject> {
  host: HostSpec;
  projects: T[];
  removed: InventoryEntry[];
}

/** Splits work by host: this machine's (no host) first, then each host that has any, by name. */
export function splitByHost<T extends { host?: string }>(
  hosts: HostSpec[],
  projects: T[],
  removed: InventoryEntry[],
): { local: T[]; localRemoved: InventoryEntry[]; remote: HostWork<T>[] } {
  const remote = hosts
    .map((host) => ({
      host,
      projects: projects.filter((p) => p.host === host.name),
      removed: removed.filter((e) => e.host === host.name),
    }))
    .filter((w) => w.projects.length || w.removed.length);
  return {
    local: projects.filter((p) => !p.host),
    localRemoved: removed.filter((e) => !e.host),
    remote,
  };
}

/** Why a host gave no answer, in one line; `reachable` when ssh got through and what runs there as po answered. */
export class HostFailure {
  constructor(
    readonly message: string,
    readonly reachable: boolean,
  ) {}
}

/** A one-document verb of the remote po (observe, validate, info): its answer, or why there is none. */
export async function askHost<T extends { protocol: number; po: string }>(
  host: HostSpec,
  verb: string,
  request: object,
  timeoutMs = OBSERVE_TIMEOUT_MS,
): Promise<T | HostFailure> {
  let out = "";
  const args = ["remote", verb, "--protocol", String(PROTOCOL)];
  const call = callHost(host, args, JSON.stringify(request), (l) => (out += l), timeoutMs);
  call.end();
  const r = await call.done;
  // 255 is ssh's own failure; any other exit code came from the host, which was reached
  if (r.code !== 0 || r.timedOut) return new HostFailure(hostFailure(host, r), !r.timedOut && r.code !== 255);
  let reply: T | null | undefined;
  try {
    reply = JSON.parse(out) as T | null;
  } catch {
    reply = undefined;
  }
  const fix = `install the same po on both machines, or set po = [...] in [hosts.${host.name}]`;
  if (typeof reply?.protocol !== "number") {
    const said = out.length > 100 ? `${out.slice(0, 100)}…` : out || "nothing";
    return new HostFailure(
      `po on ${host.name} answered something that is not protocol ${PROTOCOL}: ${said}; ${fix}`,
      true,
    );
  }
  if (reply.protocol !== PROTOCOL)
    return new HostFailure(
      `po on ${host.name} (${reply.po}) answered in protocol ${reply.protocol}, but this po (${poVersion()}) ` +
        `speaks protocol ${PROTOCOL}; ${fix}`,
      true,
    );
  return reply;
}

/** What the hosts' po said of their projects; the projects of a host that could not answer are errors. */
export interface RemoteObservation {
  actual: Map<string, ActualProject>;
  removed: Map<string, ActualProject>;
  /** project → the tag naming its pinned commit */
  tags: Map<string, string>;
  /** project → its agents, when they were asked for */
  agents: Map<string, ProjectAgents>;
  errors: PlanError[];
}

/** Each host's share observed by its own po, hosts in parallel (at most `parallelism` at once). */
export async function observeHosts(
  work: HostWork[],
  opts: Pick<HostsOptions, "offline" | "hostsParallelism" | "agents">,
): Promise<RemoteObservation> {
  const replies = await mapLimit(work, opts.hostsParallelism, (w) => {
    const { offline, agents } = opts;
    const request: Request = { protocol: PROTOCOL, projects: w.projects, removed: w.removed, offline, agents };
    return askHost<ObserveReply>(w.host, "observe", request);
  });
  const out: RemoteObservation = {
    actual: new Map(),
    removed: new Map(),
    tags: new Map(),
    agents: new Map(),
    errors: [],
  };
  work.forEach((w, i) => {
    const reply = replies[i];
    if (reply instanceof HostFailure) {
      for (const p of [...w.projects, ...w.removed]) out.errors.push({ project: p.name, message: reply.message });
      return;
    }
    for (const a of reply.actual) out.actual.set(a.name, a);
    for (const a of reply.removed) out.removed.set(a.name, a);
    for (const [name, tag] of Object.entries(reply.tags ?? {})) out.tags.set(name, tag);
    if (!opts.agents) return;
    // a po that predates agents in observe says nothing of them: po status says so instead of showing none
    const older = {
      agents: [],
      notes: [`po on ${w.host.name} (${reply.po}) does not report agents; install this po there`],
    };
    for (const a of reply.actual) out.agents.set(a.name, reply.agents?.[a.name] ?? older);
  });
  return out;
}

/** What the chosen projects pin now (their gitlink in HEAD), wherever they live. */
export interface Pins {
  /** project → the commit it pins; absent: none, or its host could not be asked */
  pinned: Map<string, string>;
  /** the projects of hosts that could not be asked, each with why */
  errors: PlanError[];
}

/** Each project's pin: read here for this machine's, asked of each host's po (one call per host) for the others. */
export async function pinsEverywhere(fleet: DesiredFleet, projects: DesiredProject[], offline: boolean): Promise<Pins> {
  const split = splitByHost(fleet.hosts ?? [], projects, []);
  const [here, there] = await Promise.all([
    Promise.all(split.local.map(async (p) => [p.name, await pinnedCommit(p)] as const)),
    observeHosts(split.remote, { offline, hostsParallelism: HOSTS_PARALLELISM }),
  ]);
  const pinned = new Map<string, string>();
  for (const [name, commit] of here) if (commit) pinned.set(name, commit);
  for (const a of there.actual.values()) if (a.pinned) pinned.set(a.name, a.pinned);
  return { pinned, errors: there.errors };
}

export interface FleetObservation extends Observation {
  /** the projects of hosts that could not be observed, each with why */
  errors: PlanError[];
  /** each remote project's agents, told by its host (when HostsOptions.agents asked) */
  agents: Map<string, ProjectAgents>;
  /** the tag naming the commit project `p` pins (display: "v0.1.0" rather than a sha), wherever it lives */
  pinnedTag(p: DesiredProject): Promise<string | undefined>;
}

/** Every chosen project observed where it lives. */
export async function observeEverywhere(
  fleet: DesiredFleet,
  projects: DesiredProject[],
  removed: InventoryEntry[],
  opts: HostsOptions,
): Promise<FleetObservation> {
  const split = splitByHost(fleet.hosts ?? [], projects, removed);
  const [here, there] = await Promise.all([
    observeFleet(split.local, split.localRemoved, {
      offline: opts.offline,
      inventory: opts.inventory,
      stateDir: opts.stateDir,
    }),
    observeHosts(split.remote, opts),
  ]);
  const actual = new Map([...here.actual, ...there.actual]);
  const pinnedTag = async (p: DesiredProject) => {
    if (p.host) return there.tags.get(p.name);
    const pinned = actual.get(p.name)?.pinned;
    return pinned ? here.refs.tagOf(p.harness, pinned, join(p.location, p.harness.path)) : undefined;
  };
  const gone = new Map([...here.removed, ...there.removed]);
  const { errors, agents } = there;
  return { actual, removed: gone, errors, agents, sessions: here.sessions, refs: here.refs, pinnedTag };
}

/** Each action of a project on another host marked with that host, whose po runs it. */
export function markHosts(actions: Action[], places: { name: string; host?: string }[]): Action[] {
  const hostOf = new Map(places.map((p) => [p.name, p.host]));
  return actions.map((a) => {
    const host = hostOf.get(a.project);
    return host ? { ...a, host } : a;
  });
}

/** The host errors added to the plan, and each action of a remote project marked with its host. */
export function placePlan(
  body: PlanBody,
  obs: FleetObservation,
  projects: DesiredProject[],
  removed: InventoryEntry[],
) {
  const actions = markHosts(body.actions, [...removed, ...projects]);
  const errors = [...body.errors, ...obs.errors].sort((a, b) =>
    a.project < b.project ? -1 : a.project > b.project ? 1 : 0,
  );
  return { actions, errors };
}
