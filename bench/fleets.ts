// The bench's fleets: a small harness (the sandbox's), a realistic one (about 500 files, CRLF files
// under `.gitattributes`, a nested submodule, non-ASCII names, a `*~` rule, annotated and
// lightweight tags and a tag of a tag, packed by git gc), and projects copied from a template.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harnessToml } from "../src/sandbox/sandbox.js";

export type Git = (cwd: string, ...args: string[]) => string;

/** small: the sandbox harness; realistic: a harness like real ones; cp -a: realistic copies never refreshed. */
export type Kind = "small" | "realistic" | "cp -a";

export const AGENTS = `[agents.a]\ncommand = ["sleep", "3600"]\nwatch = "none"\n`;

export function makeRealisticHarness(dir: string, git: Git): void {
  const lib = `${dir}-lib`;
  mkdirSync(lib, { recursive: true });
  git(lib, "init", "-q");
  writeFileSync(join(lib, "lib.txt"), "lib\n");
  git(lib, "add", ".");
  git(lib, "commit", "-qm", "lib");
  for (const d of ["src", "docs", "scripts"]) mkdirSync(join(dir, d), { recursive: true });
  git(dir, "init", "-q");
  writeFileSync(join(dir, ".gitattributes"), "* text=auto\n*.bat text eol=crlf\n*.png binary\n");
  writeFileSync(join(dir, ".gitignore"), "*~\n*.o\nbuild/\n");
  for (let i = 1; i <= 480; i++) writeFileSync(join(dir, "src", `f${i}.txt`), `line ${i}\nmore ${i}\n`);
  for (let i = 1; i <= 5; i++) writeFileSync(join(dir, "scripts", `s${i}.bat`), `@echo off\r\nrem ${i}\r\n`);
  writeFileSync(join(dir, "docs", "café.md"), "café\n");
  writeFileSync(join(dir, "docs", "日本語.txt"), "ja\n");
  writeFileSync(join(dir, "VERSION"), "0.1.0\n");
  git(dir, "submodule", "add", "-q", lib, "lib");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "real 0.1.0");
  git(dir, "tag", "-a", "v0.1.0", "-m", "v0.1.0");
  git(dir, "-c", "advice.nestedTag=false", "tag", "-a", "v0.1.0-signed", "v0.1.0", "-m", "a tag of a tag");
  writeFileSync(join(dir, "VERSION"), "0.2.0\n");
  writeFileSync(join(dir, "src", "f1.txt"), "changed\n");
  git(dir, "commit", "-qam", "real 0.2.0");
  git(dir, "tag", "v0.2.0");
  git(dir, "gc", "-q");
}

/** A project pinning `harnessUrl` at v0.1.0 in engine/ (nested submodules too), its files an hour old. */
export function makeTemplate(dir: string, harnessUrl: string, git: Git, noTemplate: string): string {
  mkdirSync(dir, { recursive: true });
  const g = (cwd: string, ...args: string[]) => git(cwd, "-c", `init.templateDir=${noTemplate}`, ...args);
  g(dir, "init", "-q");
  g(dir, "submodule", "add", "-q", harnessUrl, "engine");
  g(join(dir, "engine"), "checkout", "-q", "v0.1.0");
  g(join(dir, "engine"), "submodule", "update", "-q", "--init", "--recursive");
  writeFileSync(join(dir, "agents.toml"), AGENTS);
  writeFileSync(join(dir, ".gitignore"), ".ao-state/\n");
  g(dir, "add", ".");
  g(dir, "commit", "-qm", "a project of the bench fleet");
  // Files older than any index written from now on: never racily clean in a copy.
  const past = new Date(Date.now() - 3600_000);
  const age = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      if (e.isDirectory()) age(join(d, e.name));
      else utimesSync(join(d, e.name), past, past);
    }
  };
  age(join(dir, "engine"));
  g(join(dir, "engine"), "update-index", "-q", "--refresh");
  return dir;
}

/** Runs `argv` for each item, `limit` at once; throws on the first failure. */
export async function runAll(items: string[][], limit: number, env: NodeJS.ProcessEnv): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const [cmd, ...args] = items[next++];
      await new Promise<void>((resolve, reject) =>
        execFile(cmd, args, { env }, (err, _out, stderr) =>
          err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim()}`)) : resolve(),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/**
 * `count` copies of the template under `dir`, named `${prefix}0001`…. `cp -a` copies keep the
 * template's stale index stat data (new inodes and ctimes), as after any copy or restore; the
 * others have their submodule indexes refreshed by git, as after any git status.
 */
export async function copies(
  template: string,
  dir: string,
  prefix: string,
  count: number,
  refresh: boolean,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out = Array.from({ length: count }, (_, i) => join(dir, `${prefix}${String(i + 1).padStart(4, "0")}`));
  if (refresh) for (const p of out) cpSync(template, p, { recursive: true, preserveTimestamps: true });
  else
    await runAll(
      out.map((p) => ["cp", "-a", template, p]),
      2,
      env,
    );
  // the nested submodule of the realistic harness too: git status looks into it
  const nested = existsSync(join(template, "engine", "lib", ".git")) ? ["engine", "engine/lib"] : ["engine"];
  if (refresh)
    await runAll(
      out.flatMap((p) => nested.map((s) => ["git", "-C", join(p, s), "update-index", "-q", "--refresh"])),
      2,
      env,
    );
  return out;
}

/** fleet.toml for `projects` pinning `ref`; enabled ones have live sessions. */
export function writeFleet(
  dir: string,
  projects: string[],
  harnessUrl: string,
  ref: string,
  enabled: boolean,
  harness = harnessToml("h", harnessUrl),
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "fleet.toml");
  const body = projects
    .map(
      (p) =>
        `[projects.${p.split("/").pop()}]\nlocation = ${JSON.stringify(p)}\n` +
        `harness = "h"\nref = "${ref}"\nenabled = ${enabled}\n`,
    )
    .join("\n");
  writeFileSync(file, `version = 1\n\n${harness}\n${body}`);
  return file;
}
