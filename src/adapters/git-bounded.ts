// One git command in a process group of its own, bounded by a timeout that covers its hooks and
// whatever they start; when it runs out, the line says which hook hung, and the group is stopped.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tail } from "../common/tail.js";
import { stopGroup } from "./process-group.js";

/**
 * The hook git was running when it was stopped, from its own trace2 event log: a hook that
 * started ("child_start" of class hook) and never exited. Undefined when no hook was running.
 */
function hungHook(trace: string): string | undefined {
  let text = "";
  try {
    text = readFileSync(trace, "utf8");
  } catch {
    return undefined;
  }
  const open = new Map<number, string>();
  for (const line of text.split("\n")) {
    try {
      const e = JSON.parse(line) as { event?: string; child_id?: number; child_class?: string; hook_name?: string };
      if (e.event === "child_start" && e.child_class === "hook") open.set(e.child_id!, e.hook_name ?? "a");
      if (e.event === "child_exit") open.delete(e.child_id!);
    } catch {
      // a line cut short when git was stopped
    }
  }
  return [...open.values()].pop();
}

export interface GitRun {
  timeoutMs: number;
  /** what the command does, for the error line ("git commit in /srv/alpha") */
  what: string;
}

/** Runs `git ARGS` in `dir`; its stdout, or an Error in one line (git's own message, or the hook that hung). */
export function gitBounded(dir: string, args: string[], run: GitRun): Promise<string> {
  return new Promise((done, fail) => {
    const out = new Tail();
    const err = new Tail();
    const traces = mkdtempSync(join(tmpdir(), "po-git-"));
    const trace = join(traces, "trace2.json");
    const child = spawn("git", ["--no-optional-locks", ...args], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_TRACE2_EVENT: trace },
    });
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    let hung: string | undefined;
    const timer = setTimeout(() => {
      const hook = hungHook(trace);
      hung = hook
        ? `hung in its ${hook} hook for ${run.timeoutMs / 1000} s and was stopped`
        : `did not finish within ${run.timeoutMs / 1000} s and was stopped`;
      if (child.pid) void stopGroup(child.pid);
    }, run.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      rmSync(traces, { recursive: true, force: true });
      fail(new Error(`${run.what} could not start git: ${e.message}`));
    });
    // exit, not close: a hook's background child may hold the pipes for ever
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      rmSync(traces, { recursive: true, force: true });
      setImmediate(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        if (hung) return fail(new Error(`${run.what} ${hung}`));
        if (code === 0) return done(out.text());
        const lines = err
          .text()
          .trim()
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean);
        const why = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? `killed by ${signal ?? "a signal"}`;
        fail(new Error(`${run.what} failed: ${why}`));
      });
    });
  });
}
