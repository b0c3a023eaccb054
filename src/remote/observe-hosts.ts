// Observation across machines: this machine's projects as always, every other host's by its own
// po in one ssh call per host (hosts in parallel, bounded). A host that cannot answer turns its
// projects into plan errors that name it; the other hosts are not held up.
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

/** The remote po's answer, or why there is none (one line). */
async function observeHost(w: HostWork, offline: boolean): Promise<ObserveReply | string> {
  const request: Request = { protocol: PROTOCOL, projects: w.projects, removed: w.removed, offline };
  let out = "";
  const call = callHost(
    w.host,
    ["remote", "observe", "--protocol", String(PROTOCOL)],
    JSON.stringify(request),
    (l) => {
      out += l;
    },
    OBSERVE_TIMEOUT_MS,
  );
  call.end();
  const r = await call.done;
  if (r.code !== 0 || r.timedOut) return hostFailure(w.host, r);
  try {
    const reply = JSON.parse(out) as ObserveReply;
    if (reply.protocol !== PROTOCOL)
      return (
        `host ${w.host.name}: its po (${reply.po}) answered in protocol ${reply.protocol}, ` +
        `this po speaks ${PROTOCOL}`
      );
    return reply;
  } catch {
    return `host ${w.host.name}: its po answered something that is not protocol ${PROTOCOL} JSON: ${out.slice(0, 100)}`;
  }
}

export interface FleetObservation extends Observation {
  /** the projects of hosts that could not be observed, each with why */
  errors: PlanError[];
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
    mapLimit(split.remote, opts.hostsParallelism, (w) => observeHost(w, opts.offline)),
  ]);
  const actual = new Map(here.actual);
  const gone = new Map(here.removed);
  const errors: PlanError[] = [];
  split.remote.forEach((w, i) => {
    const reply = there[i];
    if (typeof reply === "string") {
      for (const p of [...w.projects, ...w.removed]) errors.push({ project: p.name, message: reply });
      return;
    }
    for (const a of reply.actual) actual.set(a.name, a as ActualProject);
    for (const a of reply.removed) gone.set(a.name, a as ActualProject);
  });
  return { actual, removed: gone, errors, sessions: here.sessions, refs: here.refs };
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
