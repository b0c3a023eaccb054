// po validate: schema and semantic checks of fleet.toml and agents.toml files, for editors and CI.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { parseVerb, COMMON_HELP } from "./args.js";
import { loadFleet } from "../registry/fleet.js";
import { loadToml } from "../registry/load-toml.js";
import { formatProblem, type Problem } from "../common/problems.js";
import { printJson } from "./output.js";

export const summary = "check fleet.toml (and agents.toml) files: schema and semantic checks";
const help = `Usage: po validate [FILE…] [--deep] [--json]

Checks each FILE (default: the --fleet file) against its schema and po's semantic rules and prints
one line per problem as FILE:LINE:COL: key: message. A file named agents.toml is checked as an
agents file. Exit 0 when every file is valid, 1 otherwise.

Options:
  --deep         also check every existing project repository (git repo, harness submodule,
                 agents.toml, and that it tracks nothing of the fleet); a project on another
                 host is checked there by its po, over ssh
${COMMON_HELP}`;

export interface FileReport {
  file: string;
  kind: "fleet" | "agents";
  problems: Problem[];
}

async function checkFile(file: string, deep: boolean): Promise<FileReport> {
  if (basename(file) === "agents.toml")
    return { file, kind: "agents", problems: (await loadToml(file, "agents")).problems };
  const loaded = await loadFleet(file);
  const problems = loaded.problems;
  if (deep && loaded.fleet) {
    const { deepProblems } = await import("../registry/validate-deep.js");
    const { validateOnHosts } = await import("../remote/validate-hosts.js");
    const fleet = loaded.fleet;
    problems.push(...(await deepProblems(fleet, (there) => validateOnHosts(fleet, there))));
  }
  return { file, kind: "fleet", problems };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("validate", argv, { deep: { type: "boolean" } }, help);
  if (!args) return 0;
  const files = args.positionals.length ? args.positionals : [args.values.fleet];
  // A FILE named on the command line is missing as named: the hint about --fleet is not for it.
  const missing = (file: string): FileReport => ({
    file,
    kind: basename(file) === "agents.toml" ? "agents" : "fleet",
    problems: [{ file, message: "file not found" }],
  });
  const reports = await Promise.all(
    files.map((f) =>
      args.positionals.length && !existsSync(f) ? missing(f) : checkFile(f, Boolean(args.values.deep)),
    ),
  );
  const ok = reports.every((r) => r.problems.length === 0);
  if (args.values.json) printJson({ ok, files: reports });
  else
    for (const r of reports) {
      if (r.problems.length) process.stderr.write(r.problems.map(formatProblem).join("\n") + "\n");
      else process.stdout.write(`${r.file}: valid ${r.kind} file\n`);
    }
  return ok ? 0 : 1;
}
