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

export async function git(dir: string, allowFileTransport = false): Promise<SimpleGit> {
  const simpleGit = await (factory ??= import("simple-git").then((m) => m.simpleGit));
  return simpleGit({
    baseDir: dir,
    binary: SETSID ? [SETSID, "git"] : "git",
    timeout: { block: TIMEOUT_MS },
    config: allowFileTransport ? ["protocol.file.allow=always"] : [],
    unsafe: { allowUnsafeProtocolOverride: allowFileTransport },
  });
}

/** `git …` in `dir`, its stdout; throws with git's own message. */
export async function gitRaw(dir: string, args: string[], allowFileTransport = false): Promise<string> {
  // No optional locks: observing must not even refresh an index (po plan is read-only to the byte).
  return (await git(dir, allowFileTransport)).raw(["--no-optional-locks", ...args]);
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
export function gitOut(dir: string, args: string[], opts: GitOutOptions = {}): Promise<string> {
  const argv = ["--no-optional-locks", ...(opts.remote ? ["-c", "protocol.file.allow=always"] : []), ...args];
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
