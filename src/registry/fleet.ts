// fleet.toml: load, check beyond the schema, and normalize into the reconciler's desired state.
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { DesiredFleet, DesiredProject, HarnessSpec } from "../../reconcile/model.js";
import type { Fleet, Harness } from "./generated/fleet.js";
import { loadToml, type LoadedToml } from "./load-toml.js";
import { problemsError, type Problem } from "../common/problems.js";
import { refProblem } from "./gitref.js";
import { didYouMean } from "../common/suggest.js";
import { realLocation } from "../common/real-location.js";
import { sessionName } from "../adapters/tmux.js";
import { byHost, hostProblems, hostSpecs, remoteLocation, type Located } from "./fleet-hosts.js";

export const DEFAULT_FLEET = "fleet.toml";

export interface LoadedFleet extends LoadedToml {
  fleet?: DesiredFleet;
  raw?: Fleet;
}

export function expandLocation(location: string, baseDir: string): string {
  if (location === "~" || location.startsWith("~/")) return resolve(homedir(), location.slice(2));
  return isAbsolute(location) ? resolve(location) : resolve(baseDir, location);
}

export function harnessSpec(name: string, h: Harness): HarnessSpec {
  return {
    name,
    url: h.url,
    path: h.path ?? "engine",
    up: h.up,
    down: h.down,
    ...(h.status ? { status: h.status } : {}),
    session: h.session ?? "{dir}-{agent}",
    timeoutMs: (h.timeout_s ?? 120) * 1000,
  };
}

function normalize(raw: Fleet, path: string): DesiredFleet {
  const harnesses = new Map(Object.entries(raw.harnesses ?? {}).map(([n, h]) => [n, harnessSpec(n, h)]));
  const projects: DesiredProject[] = Object.entries(raw.projects ?? {}).map(([name, p]) => ({
    name,
    // a remote location is that host's path: not resolved here, where it means nothing
    location: p.host ? remoteLocation(p.location) : expandLocation(p.location, dirname(path)),
    harness: harnesses.get(p.harness)!,
    ref: p.ref,
    enabled: p.enabled ?? true,
    ...(p.url !== undefined ? { url: p.url } : {}),
    ...(p.host ? { host: p.host } : {}),
  }));
  const sorted = projects.sort((a, b) => a.name.localeCompare(b.name));
  const notify = raw.notify ? { notify: raw.notify } : {};
  const found = hostSpecs(raw);
  const hosts = found.length ? { hosts: found } : {};
  const r = raw.rollout;
  if (!r) return { path, projects: sorted, ...notify, ...hosts };
  const rollout = {
    wave: r.wave,
    canary: r.canary,
    settleS: r.settle_s,
    maxFailures: r.max_failures,
    revert: r.revert,
  };
  return { path, projects: sorted, rollout, ...notify, ...hosts };
}

/** Where a project is: here its real path; on another host as written (this machine's symlinks mean nothing there). */
const placeOf = (p: Located) => (p.host === undefined ? realLocation(p.location) : p.location);

/**
 * Two projects are one repository when their real paths meet (a symlinked folder is the same
 * folder). Projects cannot nest either.
 */
function locationProblems(
  projects: Located[],
  problem: (name: string, key: string, msg: string) => Problem,
): Problem[] {
  const owner = new Map<string, string>();
  const out: Problem[] = [];
  for (const p of projects) {
    const real = placeOf(p);
    const other = owner.get(real);
    const via = real === p.location ? "" : `, through symlinks ${real}`;
    if (other)
      out.push(
        problem(
          p.name,
          "location",
          `same location as project '${other}' (${p.location}${via}): one repository; ` +
            "each project needs its own folder",
        ),
      );
    else owner.set(real, p.name);
  }
  for (const p of projects) {
    for (let up = dirname(placeOf(p)); up !== dirname(up); up = dirname(up)) {
      const outer = owner.get(up);
      if (outer)
        out.push(
          problem(p.name, "location", `${p.location} is inside project '${outer}' (${up}); projects cannot nest`),
        );
    }
  }
  // A second project at the same place already has its problem; its session names say nothing new.
  return [
    ...out,
    ...sessionProblems(
      projects.filter((p) => owner.get(placeOf(p)) === p.name),
      problem,
    ),
  ];
}

/**
 * Two projects whose agents would get the same tmux session names: one would stop or adopt the
 * other's agents. Decided from the template alone, without reading any project: the template is
 * rendered with the folder's base name and a placeholder agent, and equal renderings collide for
 * every agent name they share (e.g. ~/work/api and ~/personal/api under "{dir}-{agent}").
 */
function sessionProblems(projects: Located[], problem: (name: string, key: string, msg: string) => Problem): Problem[] {
  const owner = new Map<string, Located>();
  const out: Problem[] = [];
  for (const p of projects) {
    if (p.session === undefined) continue;
    const pattern = sessionName(p.location, "\u0000", p.session);
    const other = owner.get(pattern);
    if (!other) {
      owner.set(pattern, p);
      continue;
    }
    const shown = pattern.replace("\u0000", "{agent}");
    out.push(
      problem(
        p.name,
        "location",
        `its agents would get the same tmux session names as project '${other.name}' (${shown}, from ` +
          `${other.location} and ${p.location}); rename one folder or give the harness a session template that ` +
          `tells them apart`,
      ),
    );
  }
  return out;
}

const VALID_NAME = /^[a-z0-9][a-z0-9._-]*$/;

function isTable(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function semanticProblems(loaded: LoadedToml, raw: Fleet): Problem[] {
  const problem = (name: string, key: string, message: string): Problem => ({
    file: loaded.file,
    ...loaded.locate(["projects", name, key]),
    path: `projects.${name}.${key}`,
    message,
  });
  const harnesses = Object.keys(isTable(raw.harnesses) ? raw.harnesses : {});
  const out: Problem[] = [];
  const located: Located[] = [];
  // Checked even when the schema failed elsewhere, so that every problem is reported at once.
  for (const [name, p] of Object.entries(isTable(raw.projects) ? raw.projects : {})) {
    if (!isTable(p)) continue;
    const host = typeof p.host === "string" ? p.host : undefined;
    // A host the schema refuses (not a name) places the project nowhere: whether it is declared, and
    // what its location means there, would only repeat that problem.
    const placed = p.host === undefined || (host !== undefined && VALID_NAME.test(host));
    if (placed && typeof p.location === "string" && p.location !== "") {
      const location = host ? remoteLocation(p.location) : expandLocation(p.location, dirname(loaded.file));
      const h = isTable(raw.harnesses) ? raw.harnesses[p.harness] : undefined;
      const session = isTable(h) ? (typeof h.session === "string" ? h.session : "{dir}-{agent}") : undefined;
      located.push({ name, location, session, ...(host ? { host } : {}) });
    }
    // the schema reports a [harnesses] that is not a table and a harness that is not a valid name
    const harnessesOk = raw.harnesses === undefined || isTable(raw.harnesses);
    if (harnessesOk && typeof p.harness === "string" && VALID_NAME.test(p.harness) && !harnesses.includes(p.harness)) {
      const hint = didYouMean(p.harness, harnesses) || `; declare it as [harnesses.${p.harness}]`;
      out.push(problem(name, "harness", `harness '${p.harness}' is not declared${hint}`));
    }
    const bad = typeof p.ref === "string" ? refProblem(p.ref) : undefined;
    if (bad) out.push(problem(name, "ref", `invalid ref '${p.ref}': ${bad}`));
  }
  located.sort((a, b) => a.name.localeCompare(b.name));
  // locations and session names are compared among the projects of one host only
  return [
    ...out,
    ...byHost(located).flatMap((group) => locationProblems(group, problem)),
    ...hostProblems(raw, located, problem),
  ];
}

/** Loads fleet.toml; `fleet` is set only when there are no problems. */
export async function loadFleet(file: string, text?: string): Promise<LoadedFleet> {
  const loaded = await loadToml(resolve(file), "fleet", text);
  if (!loaded.data) return { ...loaded, file, problems: loaded.problems.map((p) => ({ ...p, file })) };
  const raw = loaded.data as unknown as Fleet;
  const problems = [...loaded.problems, ...semanticProblems(loaded, raw)]
    .map((p) => ({ ...p, file }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (problems.length) return { ...loaded, file, problems, raw };
  return { ...loaded, file, raw, fleet: normalize(raw, resolve(file)) };
}

/** Loads fleet.toml or throws every problem at once. */
export async function requireFleet(
  file: string,
  text?: string,
): Promise<LoadedFleet & { fleet: DesiredFleet; raw: Fleet }> {
  const loaded = await loadFleet(file, text);
  if (!loaded.fleet || !loaded.raw) throw problemsError(loaded.problems.map((p) => ({ ...p, file })));
  return loaded as LoadedFleet & { fleet: DesiredFleet; raw: Fleet };
}
