// Runs a harness's up/down in the project root (argv, never a shell), bounded by the harness
// timeout; on timeout the whole process group is killed, so nothing it started lingers.
import { execa } from "execa";
import type { HarnessSpec } from "../reconcile/model.js";
import { listSessions } from "./tmux.js";

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop() ?? "";
}

export async function runHarness(harness: HarnessSpec, verb: "up" | "down", cwd: string): Promise<void> {
  const [cmd, ...args] = harness[verb];
  const child = execa(cmd, args, { cwd, detached: true, reject: false, all: true, stdin: "ignore" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, "SIGTERM");
    setTimeout(() => killGroup(child.pid, "SIGKILL"), 2000).unref();
  }, harness.timeoutMs);
  const result = await child;
  clearTimeout(timer);
  const what = `harness '${harness.name}' ${verb} (${harness[verb].join(" ")})`;
  if (timedOut) throw new Error(`${what} did not finish within ${harness.timeoutMs / 1000} s and was stopped`);
  if (result.failed) {
    const detail = lastLine(String(result.all ?? "")) || result.shortMessage;
    throw new Error(`${what} failed${result.exitCode !== undefined ? ` with exit code ${result.exitCode}` : ""}: ${detail}`);
  }
}

/** Waits (polling, bounded) until `done(live)` holds; throws with `what` when it does not in time. */
export async function waitForSessions(done: (live: Set<string>) => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
    if (done(await listSessions())) return;
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, delay));
  }
}
