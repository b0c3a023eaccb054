// po validate --deep: the projects that exist still obey the fleet's rules, above all the
// one-directional rule (a project knows nothing of the orchestrator or the fleet).
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import { loadAgents } from "./agents-file.js";
import { gitRaw, submodules } from "../adapters/git.js";
import type { Problem } from "../common/problems.js";
import { locator } from "./toml-locate.js";

/** Files that belong to the orchestrator and must never be tracked in a project. */
const FLEET_FILES = /(^|\/)(fleet\.toml|\.ao-state\/.*)$/;

function sameUrl(a: string, b: string, base: string): boolean {
  const norm = (u: string) =>
    (/^[a-z][a-z0-9+.-]*:/i.test(u) ? u.replace(/^file:\/\//, "") : resolve(base, u)).replace(/(\.git)?\/*$/, "");
  return norm(a) === norm(b);
}

/** What is wrong with one project on this machine (`p.location` is a path here). */
export async function projectProblems(p: DesiredProject): Promise<string[]> {
  if (!existsSync(p.location)) return [];
  const tracked = await gitRaw(p.location, ["ls-files", "-z"]).catch(() => undefined);
  if (tracked === undefined) return [`${p.location} is not a git repository`];
  const out: string[] = [];
  const sub = (await submodules(p.location)).find((s) => s.path === p.harness.path);
  if (!sub)
    out.push(
      `no submodule at ${p.harness.path}/ in .gitmodules; add it with git submodule add ` +
        `${p.harness.url} ${p.harness.path}`,
    );
  else if (!sub.url || !sameUrl(sub.url, p.harness.url, p.location))
    out.push(`submodule ${p.harness.path}/ points at ${sub.url ?? "no url"}, not the harness url ${p.harness.url}`);
  const agents = await loadAgents(p.location);
  out.push(
    ...agents.problems.map(
      (x) => `agents.toml: ${x.line ? `line ${x.line}: ` : ""}${x.path ? `${x.path}: ` : ""}${x.message}`,
    ),
  );
  for (const f of tracked.split("\0").filter((f) => FLEET_FILES.test(f)))
    out.push(
      `tracks ${f}, which belongs to the orchestrator; a project must know nothing of the fleet (git rm --cached ${f})`,
    );
  return out;
}

/** A problem of one project, as its host's po (or the ssh call to it) reports it. */
export interface ProjectProblem {
  project: string;
  message: string;
}

/**
 * The problems of every project: this machine's looked at here, the others' by `onHosts` (their
 * locations name folders on their hosts, which only the po there can look at).
 */
export async function deepProblems(
  fleet: DesiredFleet,
  onHosts: (projects: DesiredProject[]) => Promise<ProjectProblem[]>,
): Promise<Problem[]> {
  const locate = locator(readFileSync(fleet.path, "utf8"));
  const [here, there] = await Promise.all([
    Promise.all(
      fleet.projects
        .filter((p) => !p.host)
        .map(async (p) => (await projectProblems(p)).map((message) => ({ project: p.name, message }))),
    ),
    onHosts(fleet.projects.filter((p) => p.host)),
  ]);
  const order = fleet.projects.map((p) => p.name);
  return [...here.flat(), ...there]
    .sort((a, b) => order.indexOf(a.project) - order.indexOf(b.project))
    .map(({ project, message }) => ({
      file: fleet.path,
      ...locate(["projects", project]),
      path: `projects.${project}`,
      message,
    }));
}
