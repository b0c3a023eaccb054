// Runs a harness's up, down or status in the project root (argv, never a shell), bounded by the
// harness timeout; on timeout (or a second Ctrl-C) the whole process group is stopped, so nothing it
// started lingers. Each group is reported to the apply lock while it runs, so that the apply after
// a kill -9 can wait for what the killed one left running instead of racing it.
import { spawn } from "node:child_process";
import type { HarnessSpec } from "../../reconcile/model.js";
import { stopGroup, type ChildGroup } from "./process-group.js";
import { lastLines, Tail } from "../common/tail.js";

export interface HarnessRunOptions {
  /** aborted: stop the harness now (the operator pressed Ctrl-C twice) */
  signal?: AbortSignal;
  /** told when the harness's process group starts (true) and ends (false) */
  track?(child: ChildGroup, running: boolean): void;
  /** given what the harness printed (stdout and stderr, interleaved) once it ended, and how */
  output?(text: string, outcome: string): void;
}

/** How long, once the harness exited, its output pipes may take to deliver what it wrote. */
const DRAIN_MS = 500;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: NodeJS.ErrnoException;
}

/**
 * Starts argv in its own process group and resolves when the PROCESS exits, not when its pipes
 * close: a daemon it leaves behind may hold stdout for ever. Output is kept as a bounded tail.
 * (execa waits for the pipes too, which is why the harness runs under node's own spawn.)
 */
function spawnGroup(argv: string[], cwd: string, out: Tail, stdout: Tail): { pid?: number; exited: Promise<Exit> } {
  const child = spawn(argv[0], argv.slice(1), { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (c: Buffer) => stdout.push(c));
  const closed = Promise.all(
    [child.stdout, child.stderr].map(
      (s) =>
        new Promise<void>((done) => {
          s.on("data", (c: Buffer) => out.push(c));
          s.on("close", done).on("error", done);
        }),
    ),
  );
  const exited = new Promise<Exit>((done) => {
    child.on("error", (error) => done({ code: null, signal: null, error }));
    child.on("exit", (code, signal) => done({ code, signal }));
  }).then(async (exit) => {
    // What it wrote before exiting is still in the pipes: read it, within a bound, then let go.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, DRAIN_MS)))]);
    clearTimeout(timer);
    child.stdout.destroy();
    child.stderr.destroy();
    return exit;
  });
  return { pid: child.pid, exited };
}

/** What the harness printed: stdout and stderr as they came, and stdout alone (bounded tails). */
export interface HarnessOutput {
  all: string;
  stdout: string;
}

/** Runs the harness's `up`, `down` or `status`; its output on success, an Error naming why otherwise. */
export async function runHarness(
  harness: HarnessSpec,
  verb: "up" | "down" | "status",
  cwd: string,
  opts: HarnessRunOptions = {},
): Promise<HarnessOutput> {
  const argv = harness[verb] ?? [];
  const what = `harness '${harness.name}' ${verb} (${argv.join(" ")})`;
  if (opts.signal?.aborted) throw new Error(`${what} was not run: interrupted`);
  const out = new Tail();
  const stdout = new Tail();
  // detached: its own process group, which a Ctrl-C on po's terminal does not reach and a timeout can kill whole.
  const child = spawnGroup(argv, cwd, out, stdout);
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
  const exit = await child.exited;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  await stopped?.done;
  if (group) opts.track?.(group, false);
  const text = out.text();
  opts.output?.(text, stopped ? stopped.why : exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
  if (stopped) throw new Error(`${what} ${stopped.why}`);
  if (exit.error?.code === "ENOENT" || exit.error?.code === "EACCES")
    throw new Error(
      `${what} cannot start: program '${argv[0]}' not found or not executable in ${cwd} or on PATH; fix ` +
        `${verb} of [harnesses.${harness.name}] in fleet.toml`,
    );
  if (exit.error) throw new Error(`${what} could not run: ${exit.error.message}`);
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `failed with exit code ${exit.code}`;
    throw new Error(`${what} ${how}${text.trim() ? `: ${lastLines(text, 5).join(" | ")}` : ""}`);
  }
  return { all: text, stdout: stdout.text() };
}
