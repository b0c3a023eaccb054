// fleet.toml's [hosts]: the hosts as the core sees them, remote locations, and the checks that
// only make sense per host (a declared host, a location that means something there).
import { posix } from "node:path";
import type { HostSpec } from "../../reconcile/model.js";
import type { Fleet } from "./generated/fleet.js";
import type { Problem } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";

/** A project's location as the semantic checks see it: resolved here, or as written for its host. */
export interface Located {
  name: string;
  location: string;
  /** the harness's session template, when the project's harness is declared */
  session?: string;
  host?: string;
}

export function hostSpecs(raw: Fleet): HostSpec[] {
  return Object.entries(raw.hosts ?? {})
    .map(([name, h]) => ({ name, ssh: h.ssh, po: h.po ?? ["po"] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A location on another host, normalized as a POSIX path; `~/…` stays for that host's po to expand. */
export function remoteLocation(location: string): string {
  const n = posix.normalize(location);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Whether a location means the same folder wherever it is read on its host: absolute or ~/…. */
export const isRemotePath = (l: string) => l.startsWith("/") || l === "~" || l.startsWith("~/");

/** The projects of each host (this machine's under ""), each group in the given order. */
export function byHost<T extends { host?: string }>(items: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const x of items) groups.set(x.host ?? "", [...(groups.get(x.host ?? "") ?? []), x]);
  return [...groups.values()];
}

/** Undeclared hosts, and remote locations that are not absolute or ~/…. */
export function hostProblems(
  raw: Fleet,
  located: Located[],
  problem: (name: string, key: string, msg: string) => Problem,
): Problem[] {
  // a [hosts] that is not a table is the schema's problem; the file is refused whatever it declares
  const hosts = Object.keys(raw.hosts ?? {});
  const out: Problem[] = [];
  for (const p of located) {
    if (p.host === undefined) continue;
    if (!hosts.includes(p.host)) {
      const hint = didYouMean(p.host, hosts) || `; declare it as [hosts.${p.host}] with ssh = "DESTINATION"`;
      out.push(problem(p.name, "host", `host '${p.host}' is not declared${hint}`));
    }
    if (!isRemotePath(p.location))
      out.push(
        problem(
          p.name,
          "location",
          `'${p.location}' is relative, but a project on host ${p.host} needs an absolute or ~/… location there`,
        ),
      );
  }
  return out;
}
