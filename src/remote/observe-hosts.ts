// Observation across machines: this machine's projects as always, every other host's by its own
// po in one ssh call per host (hosts in parallel, bounded). A host that cannot answer turns its
// projects into plan errors that name it; the other hosts are not held up.
import { join } from "node:path";
import type { ActualProject, DesiredFleet, DesiredProject, HostSpec, InventoryEntry } from "../../reconcile/model.js";
import type { PlanBody, PlanError } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { observeFleet, type Observation } from "../observe/observe.js";
import { PROTOCOL, type ObserveReply, type Request } from "./protocol.js";
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

/** A one-document verb of the remote po (observe, validate, info): its answer, or why there is none (one line). */
export async function askHost<T extends { protocol: number; po: string }>(
  host: HostSpec,
  verb: string,
  request: object,
  timeoutMs = OBSERVE_TIMEOUT_MS,
): Promise<T | string> {
  let out = "";
  const args = ["remote", verb, "--protocol", String(PROTOCOL)];
  const call = callHost(host, args, JSON.stringify(request), (l) => (out += l), timeoutMs);
  call.end();
  const r = await call.done;
  if (r.code !== 0 || r.timedOut) return hostFailure(host, r);
  try {
    const reply = JSON.parse(out) as T;
    if (reply.protocol !== PROTOCOL)
      return `host ${host.name}: its po (${reply.po}) answered in protocol ${reply.protocol}, this po speaks ${PROTOCOL}`;
    return reply;
  } catch {
    return `host ${host.name}: its po answered something that is not protocol ${PROTOCOL} JSON: ${out.slice(0, 100)}`;
  }
}

/** What the hosts' po said of their projects; the projects of a host that could not answer are errors. */
export interface RemoteObservation {
  actual: Map<string, ActualProject>;
  removed: Map<string, ActualProject>;
  /** project → the tag naming its pinned commit */
  tags: Map<string, string>;
  errors: PlanError[];
}

/** Each host's share observed by its own po, hosts in parallel (at most `parallelism` at once). */
export async function observeHosts(
  work: HostWork[],
  offline: boolean,
  parallelism: number,
): Promise<RemoteObservation> {
  const replies = await mapLimit(work, parallelism, (w) => {
    const request: Request = { protocol: PROTOCOL, projects: w.projects, removed: w.removed, offline };
    return askHost<ObserveReply>(w.host, "observe", request);
  });
  const out: RemoteObservation = { actual: new Map(), removed: new Map(), tags: new Map(), errors: [] };
  work.forEach((w, i) => {
    const reply = replies[i];
    if (typeof reply === "string") {
      for (const p of [...w.projects, ...w.removed]) out.errors.push({ project: p.name, message: reply });
      return;
    }
    for (const a of reply.actual) out.actual.set(a.name, a);
    for (const a of reply.removed) out.removed.set(a.name, a);
    for (const [name, tag] of Object.entries(reply.tags ?? {})) out.tags.set(name, tag);
  });
  return out;
}

export interface FleetObservation extends Observation {
  /** the projects of hosts that could not be observed, each with why */
  errors: PlanError[];
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
    observeHosts(split.remote, opts.offline, opts.hostsParallelism),
  ]);
  const actual = new Map([...here.actual, ...there.actual]);
  const pinnedTag = async (p: DesiredProject) => {
    if (p.host) return there.tags.get(p.name);
    const pinned = actual.get(p.name)?.pinned;
    return pinned ? here.refs.tagOf(p.harness, pinned, join(p.location, p.harness.path)) : undefined;
  };
  const gone = new Map([...here.removed, ...there.removed]);
  return { actual, removed: gone, errors: there.errors, sessions: here.sessions, refs: here.refs, pinnedTag };
}

/** The host errors added to the plan, and each action of a remote project marked with its host. */
export function placePlan(
  body: PlanBody,
  obs: FleetObservation,
  projects: DesiredProject[],
  removed: InventoryEntry[],
) {
  const hostOf = new Map([...removed, ...projects].map((p) => [p.name, p.host]));
  const actions = body.actions.map((a) => {
    const host = hostOf.get(a.project);
    return host ? { ...a, host } : a;
  });
  const errors = [...body.errors, ...obs.errors].sort((a, b) =>
    a.project < b.project ? -1 : a.project > b.project ? 1 : 0,
  );
  return { actions, errors };
}
