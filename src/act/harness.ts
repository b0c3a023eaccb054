// Runs a harness's up/down in the project root (argv, never a shell), bounded by the harness
// timeout; on timeout (or a second Ctrl-C) the whole process group is stopped, so nothing it
// started lingers. Each group is reported to the apply lock while it runs, so that the apply after
// a kill -9 can wait for what the killed one left running instead of racing it.
import { execa } from "execa";
import type { HarnessSpec } from "../../reconcile/model.js";
import { alive, type ChildGroup } from "../state/state.js";
import { pollUntil } from "../common/poll.js";
import { listSessions } from "../adapters/tmux.js";
import { lastLines } from "../common/tail.js";

const TERM_GRACE_MS = 2000;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

function groupAlive(pgid: number): boolean {
  return alive(-pgid);
}

/** Polls until no process of the group is left; false when `ms` pass (or `signal` aborts) first. */
function groupGone(pgid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
  return pollUntil(() => !groupAlive(pgid), ms, signal);
}

/** SIGTERM to every process of the group, SIGKILL to whatever ignores it for the grace period. */
export async function stopGroup(pgid: number): Promise<void> {
  killGroup(pgid, "SIGTERM");
  if (await groupGone(pgid, TERM_GRACE_MS)) return;
  killGroup(pgid, "SIGKILL");
  await groupGone(pgid, 1000);
}

/**
 * Harness process groups that a killed apply left running: wait for each until the moment its
 * apply would have stopped it (its timeout), then stop it as that apply would have. The wait is
 * bounded by the harness timeout, so a group id reused by an unrelated process meanwhile can cost
 * a wait, and is signalled only if it outlives that bound.
 */
export async function settleOrphans(
  children: ChildGroup[],
  note: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const left = children.filter((c) => groupAlive(c.pgid));
  if (!left.length) return;
  note(
    `waiting for the harness process group${left.length > 1 ? "s" : ""} ` +
      `${left.map((c) => c.pgid).join(", ")} that the killed apply left running`,
  );
  // An interrupt ends the wait and leaves them alone: the apply then stops before planning.
  await Promise.all(
    left.map(
      async (c) =>
        (await groupGone(c.pgid, Math.max(0, c.deadline - Date.now()), signal)) || signal?.aborted || stopGroup(c.pgid),
    ),
  );
}

export interface HarnessRunOptions {
  /** aborted: stop the harness now (the operator pressed Ctrl-C twice) */
  signal?: AbortSignal;
  /** told when the harness's process group starts (true) and ends (false) */
  track?(child: ChildGroup, running: boolean): void;
}

/** What the harness printed: stdout and stderr as they came, and stdout alone. */
export interface HarnessOutput {
  all: string;
  stdout: string;
}

export async function runHarness(
  harness: HarnessSpec,
  verb: "up" | "down" | "status",
  cwd: string,
  opts: HarnessRunOptions = {},
): Promise<HarnessOutput> {
  const argv = harness[verb] ?? [];
  const [cmd, ...args] = argv;
  const what = `harness '${harness.name}' ${verb} (${argv.join(" ")})`;
  if (opts.signal?.aborted) throw new Error(`${what} was not run: interrupted`);
  // detached: its own process group, which a Ctrl-C on po's terminal does not reach and a timeout can kill whole.
  const child = execa(cmd, args, { cwd, detached: true, reject: false, all: true, stdin: "ignore" });
  const group = child.pid ? { pgid: child.pid, deadline: Date.now() + harness.timeoutMs } : undefined;
  if (group) opts.track?.(group, true);
  let stopped: { why: string; done: Promise<void> } | undefined;
  const stop = (why: string) => (stopped ??= { why, done: group ? stopGroup(group.pgid) : Promise.resolve() });
  const timer = setTimeout(
    () => stop(`did not finish within ${harness.timeoutMs / 1000} s; its process group was killed`),
    harness.timeoutMs,
  );
  const onAbort = () => stop("was stopped: interrupted twice");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const result = await child;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  await stopped?.done;
  if (group) opts.track?.(group, false);
  if (stopped) throw new Error(`${what} ${stopped.why}`);
  if ((result as { code?: string }).code === "ENOENT")
    throw new Error(
      `${what} cannot start: program '${cmd}' not found in ${cwd} or on PATH; fix ` +
        `${verb} of [harnesses.${harness.name}] in fleet.toml`,
    );
  if (result.failed) {
    // No output: execa's own first line says why (e.g. "Command failed with ENOENT: …").
    const detail = lastLines(String(result.all ?? ""), 1).join("") || (result.shortMessage ?? "").split("\n")[0];
    throw new Error(
      `${what} failed${result.exitCode !== undefined ? ` with exit code ${result.exitCode}` : ""}: ${detail}`,
    );
  }
  return { all: String(result.all ?? ""), stdout: String(result.stdout ?? "") };
}

/** Waits (polling, bounded) until `done(live)` holds; throws with `what(live)` when it does not in time. */
export async function waitForSessions(
  done: (live: Set<string>) => boolean,
  timeoutMs: number,
  what: (live: Set<string>) => string,
): Promise<void> {
  let live = new Set<string>();
  if (!(await pollUntil(async () => done((live = await listSessions())), timeoutMs))) throw new Error(what(live));
}
