// The git adapter: simple-git with a timeout on every call. File transport is allowed only on the
// calls that clone or fetch a harness, because tests and sandboxes use local harness URLs.
// simple-git is loaded on the first call: observation runs git directly (gitOut, execFile) and
// never needs it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { SimpleGit, SimpleGitFactory } from "simple-git";

const TIMEOUT_MS = 60_000;

let factory: Promise<SimpleGitFactory> | undefined;

/**
 * git runs in a session of its own where setsid(1) exists: a Ctrl-C at the terminal reaches po's
 * process group, and po lets running actions finish, so it must not kill a git mid-commit and
 * leave an index.lock behind. Timeouts still stop it: setsid execs git under the same pid.
 */
const onPath = (name: string) =>
  (process.env.PATH ?? "")
    .split(delimiter)
    .map((d) => join(d, name))
    .find((f) => existsSync(f));
const SETSID = onPath("setsid");
// Found once: observation may start git hundreds of times, each a search of PATH otherwise.
const GIT = onPath("git") ?? "git";

/**
 * Config every po git process runs with, whatever a repository's own .git/config says (an agent in
 * a project can write that file): no fsmonitor program, and only the transports po allows, never
 * ext::, fd:: or another remote helper. The file transport is the default "user" unless allowed.
 */
function baseConfig(allowFileTransport: boolean): string[] {
  const always = ["https", "http", "ssh", "git"].map((t) => `protocol.${t}.allow=always`);
  const file = `protocol.file.allow=${allowFileTransport ? "always" : "user"}`;
  return ["core.fsmonitor=false", "protocol.allow=never", ...always, file];
}

/** Subcommands that may run the repository's hooks on purpose (a pin's commit); every other call runs none. */
const HOOKED = new Set(["commit", "checkout", "switch", "merge", "submodule", "clone", "init", "add"]);

async function git(dir: string): Promise<SimpleGit> {
  const simpleGit = await (factory ??= import("simple-git").then((m) => m.simpleGit));
  return simpleGit({
    baseDir: dir,
    binary: SETSID ? [SETSID, "git"] : "git",
    timeout: { block: TIMEOUT_MS },
    // gitGuards' overrides are po's own, fixed values; nothing from a file reaches `-c`.
    unsafe: {
      allowUnsafeProtocolOverride: true,
      allowUnsafeFsMonitor: true,
      allowUnsafeHooksPath: true,
      allowUnsafeFilter: true,
    },
  });
}

/**
 * `-c filter.NAME.*=` for every filter driver configured for `dir`: `git status` would otherwise
 * run a clean filter (named by a .gitattributes and a .git/config that agents can write).
 */
async function noFilters(dir: string): Promise<string[]> {
  // execFile, not simple-git: this runs before every git status of a pin's plan
  const names = await new Promise<string>((done) =>
    execFile(
      GIT,
      ["config", "--name-only", "--get-regexp", "^filter\\..*\\.(clean|smudge|process)$"],
      { cwd: dir, timeout: TIMEOUT_MS, maxBuffer: 1 << 20, encoding: "utf8" },
      (_err, stdout) => done(stdout ?? ""),
    ),
  );
  const drivers = new Set(names.split("\n").flatMap((k) => /^filter\.(.+)\.[a-z]+$/.exec(k)?.[1] ?? []));
  return [...drivers].flatMap((d) =>
    ["clean", "smudge", "process"]
      .flatMap((k) => ["-c", `filter.${d}.${k}=`])
      .concat("-c", `filter.${d}.required=false`),
  );
}

/**
 * The `-c` options that go before `args` in every git process po starts (docs/security.md): the
 * transports and no fsmonitor always; for a command that has no business running hooks, no hooks
 * and no auto-gc; for `git status`, no filter driver.
 */
export async function gitGuards(dir: string, args: string[], allowFileTransport = false): Promise<string[]> {
  const config = baseConfig(allowFileTransport);
  if (!HOOKED.has(args[0])) config.push("core.hooksPath=/dev/null", "gc.auto=0", "maintenance.auto=false");
  const pairs = config.flatMap((c) => ["-c", c]);
  return args[0] === "status" ? [...pairs, ...(await noFilters(dir))] : pairs;
}

/** `git …` in `dir`, its stdout; throws with git's own message. */
export async function gitRaw(dir: string, args: string[], allowFileTransport = false): Promise<string> {
  const guards = await gitGuards(dir, args, allowFileTransport);
  // No optional locks: observing must not even refresh an index (po plan is read-only to the byte).
  return (await git(dir)).raw([...guards, "--no-optional-locks", ...args]);
}

export interface GitOutOptions {
  /** written to git's stdin (cat-file --batch-check) */
  input?: string;
  /** clone or fetch of a harness: file transport allowed (tests use local URLs), no credential prompt */
  remote?: boolean;
}

/**
 * `git …` in `dir` run directly with execFile (no shell, no simple-git: the hot path of observation),
 * its stdout; throws with git's stderr. No optional locks, as in gitRaw. A remote call runs in its
 * own session like every simple-git call, so a Ctrl-C does not kill a fetch mid-write.
 */
export async function gitOut(dir: string, args: string[], opts: GitOutOptions = {}): Promise<string> {
  const argv = [...(await gitGuards(dir, args, opts.remote)), "--no-optional-locks", ...args];
  const [cmd, args0] = opts.remote && SETSID ? [SETSID, [GIT, ...argv]] : [GIT, argv];
  const env = opts.remote ? { ...process.env, GIT_TERMINAL_PROMPT: "0" } : process.env;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args0,
      { cwd: dir, env, timeout: TIMEOUT_MS, maxBuffer: 256 << 20, encoding: "utf8" },
      (err, stdout, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout)),
    );
    child.stdin?.on("error", () => {}); // git may exit before reading all of it: its exit code tells
    child.stdin?.end(opts.input ?? "");
  });
}

export interface Submodule {
  name: string;
  path: string;
  url?: string;
}

/** The submodules that .gitmodules in `dir` declares (none when it has no .gitmodules). */
export async function submodules(dir: string): Promise<Submodule[]> {
  const out = await gitRaw(dir, ["config", "-f", ".gitmodules", "--get-regexp", "^submodule\\..*\\.(path|url)$"]).catch(
    () => "",
  );
  const byName = new Map<string, Submodule>();
  for (const line of out.split("\n").filter(Boolean)) {
    const m = /^submodule\.(.+)\.(path|url) (.*)$/.exec(line);
    if (!m) continue;
    const s = byName.get(m[1]) ?? { name: m[1], path: "" };
    if (m[2] === "path") s.path = m[3];
    else s.url = m[3];
    byName.set(m[1], s);
  }
  return [...byName.values()];
}

/** The line of a git failure worth showing: its fatal:/error: line, else its last line. */
export function gitMessage(e: unknown): string {
  const lines = String((e as Error)?.message ?? e)
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? "git failed";
}
