// po import DIR… | --scan DIR: adopt existing repositories into fleet.toml as they are, changing nothing.
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { HarnessSpec } from "../../reconcile/model.js";
import { listSessions } from "../adapters/tmux.js";
import { UserError } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";
import { inspectRepository, nameFor, remoteTags, type Candidate } from "../observe/adopt.js";
import { addTable, type TomlValue } from "../registry/edit-fleet.js";
import { harnessSpec, requireFleet } from "../registry/fleet.js";
import { many, parseVerb, COMMON_HELP } from "./args.js";
import { EDIT_HELP, EDIT_OPTIONS, editConfirmed } from "./edit-confirmed.js";
import { printJson } from "./output.js";

export const summary = "adopt existing repositories: write their tables into fleet.toml, change nothing else";
const help = `Usage: po import DIR… [--scan DIR]… [--harness NAME] [--name NAME] [--yes] [--dry-run]

Adds each git repository (or every repository one level below --scan DIR) to fleet.toml as it
is: its harness (the declared harness whose url is its submodule's), the release tag naming the
pinned commit (else the full commit id), enabled when its agents run, and its origin as url.
Nothing in the world changes: right after, po plan has no change for an imported project.
A repository that cannot be imported is refused in one line and nothing is written for it.

Options:
  --scan DIR          import every git repository found one level below DIR (repeatable)
  --harness NAME      the declared harness to use (its submodule path), instead of matching urls
  --name NAME         the project's name, for a single repository (default: the folder's name)
${EDIT_HELP}
${COMMON_HELP}`;

/** The folders to import: the DIRs as given, and the git repositories one level below each --scan DIR. */
function candidates(dirs: string[], scans: string[]): string[] {
  const found = [...dirs];
  for (const scan of scans) {
    if (!existsSync(scan) || !statSync(scan).isDirectory())
      throw new UserError(`import: --scan ${scan}: ${existsSync(scan) ? "a file, not a folder" : "no such folder"}`);
    for (const e of readdirSync(scan, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
      if (!e.name.startsWith(".") && existsSync(join(scan, e.name, ".git"))) found.push(join(scan, e.name));
  }
  return found;
}

/** location as fleet.toml should say it: relative to its folder, unless the operator gave it absolute or ~/… */
function locationFor(given: string, fleetDir: string): string {
  if (isAbsolute(given) || given.startsWith("~/")) {
    const rel = relative(realpathSync(fleetDir), realpathSync(given));
    return rel.startsWith("..") || isAbsolute(rel) ? given : rel.split(sep).join("/");
  }
  return relative(fleetDir, resolve(given)).split(sep).join("/");
}

function table(c: Candidate, location: string): Record<string, TomlValue> {
  return {
    location,
    harness: c.harness.name,
    ref: c.ref,
    enabled: c.enabled,
    ...(c.url ? { url: c.url } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const opts = {
    scan: { type: "string", multiple: true },
    harness: { type: "string" },
    name: { type: "string" },
    ...EDIT_OPTIONS,
  } as const;
  const args = parseVerb("import", argv, opts, help);
  if (!args) return 0;
  const file = resolve(args.values.fleet);
  const { fleet, raw } = await requireFleet(file);
  const harnesses = Object.entries(raw.harnesses ?? {}).map(([n, h]) => harnessSpec(n, h));
  const forcedName = args.values.harness as string | undefined;
  const forced = harnesses.find((h) => h.name === forcedName);
  if (forcedName && !forced)
    throw new UserError(
      `import: unknown harness '${forcedName}'${didYouMean(
        forcedName,
        harnesses.map((h) => h.name),
      )}`,
    );
  const dirs = candidates(args.positionals, many(args.values.scan));
  if (!dirs.length) throw new UserError("import: name a repository (DIR) or a folder to scan (--scan DIR)");
  const name = args.values.name as string | undefined;
  if (name !== undefined && dirs.length !== 1) throw new UserError("import: --name is for a single repository");

  const live = await listSessions();
  const tagCache = new Map<string, ReturnType<typeof remoteTags>>();
  const tags = (h: HarnessSpec) => {
    if (!tagCache.has(h.url)) tagCache.set(h.url, remoteTags(h.url));
    return tagCache.get(h.url)!;
  };
  const taken = new Map(fleet.projects.map((p) => [p.name, p.location]));
  const known = new Map(
    fleet.projects.flatMap((p) => (existsSync(p.location) ? [[realpathSync(p.location), p.name]] : [])),
  );
  const accepted: { name: string; values: Record<string, TomlValue>; notes: string[] }[] = [];
  const refused: { dir: string; reason: string }[] = [];
  for (const dir of dirs) {
    const refuse = (reason: string) => refused.push({ dir, reason });
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      refuse(existsSync(dir) ? "a file, not a folder" : "no such folder");
      continue;
    }
    const real = realpathSync(dir);
    if (known.has(real)) {
      refuse(`already in fleet.toml as project '${known.get(real)}'`);
      continue;
    }
    const seen = await inspectRepository(dir, { harnesses, forced, live, tags });
    if (!seen.ok) {
      refuse(seen.reason);
      continue;
    }
    const project = name ?? nameFor(dir);
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(project)) {
      refuse(`'${project}' is not a valid project name; pass --name NAME`);
      continue;
    }
    if (taken.has(project)) {
      refuse(`the name '${project}' is taken (by ${taken.get(project)}); import it alone with --name NAME`);
      continue;
    }
    taken.set(project, dir);
    known.set(real, project);
    accepted.push({
      name: project,
      values: table(seen.candidate, locationFor(dir, dirname(file))),
      notes: seen.candidate.notes,
    });
  }

  for (const r of refused) process.stderr.write(`po: import: ${r.dir}: ${r.reason}\n`);
  for (const a of accepted) for (const n of a.notes) process.stderr.write(`po: import: ${a.name}: note: ${n}\n`);
  if (!accepted.length) {
    if (args.values.json) printJson({ imported: [], refused });
    else process.stderr.write("po: import: nothing imported; fleet.toml is unchanged\n");
    return 1;
  }
  const edit = (source: string) => accepted.reduce((s, a) => addTable(s, ["projects", a.name], a.values), source);
  const dryRun = Boolean(args.values["dry-run"]);
  const changes = accepted.map((a) => ({ project: a.name, key: "(table)", new: a.values }));
  const result = await editConfirmed(file, edit, {
    verb: "import",
    yes: Boolean(args.values.yes),
    dryRun,
    json: args.values.json,
    changes,
  });
  const imported = accepted.map((a) => ({ name: a.name, ...a.values }));
  if (args.values.json) printJson({ imported, refused, dryRun, written: result.written });
  else if (result.written)
    process.stdout.write(`Imported ${accepted.map((a) => a.name).join(", ")}: nothing else was changed.\n`);
  if (refused.length) return 1;
  return dryRun && args.values["detailed-exitcode"] && result.changed ? 2 : 0;
}
