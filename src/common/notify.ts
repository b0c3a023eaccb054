// The notify runner: an operator's argv run once per event, the event as one JSON object on stdin.
// No shell, a bounded time for its whole process group, and a failure only logged: a notify never
// fails an apply or stops the watchdog.
import { spawn } from "node:child_process";

export const NOTIFY_TIMEOUT_MS = 10_000;

export interface NotifyEvent {
  event: "apply.failed" | "apply.not_converged" | "agent.failed" | "agent.waiting";
  project: string;
  agent?: string;
  time?: string;
  detail?: string;
}

/** Runs `argv` with the event on stdin; resolves to why it failed, or undefined. Never rejects. */
export function notify(argv: string[], event: NotifyEvent, cwd: string): Promise<string | undefined> {
  const body = `${JSON.stringify({ ...event, time: event.time ?? new Date().toISOString() })}\n`;
  return new Promise((done) => {
    let stderr = "";
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(why === undefined ? undefined : `notify ${argv.join(" ")} ${why}`);
    };
    // its own process group, so that the timeout ends whatever it started too
    const child = spawn(argv[0], argv.slice(1), { cwd, detached: true, stdio: ["pipe", "ignore", "pipe"] });
    timer = setTimeout(() => {
      finish(`did not finish within ${NOTIFY_TIMEOUT_MS / 1000} s; its process group was killed`);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, NOTIFY_TIMEOUT_MS);
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.on("error", (e) => finish(`could not run: ${e.message}`));
    child.on("close", (code, signal) =>
      finish(code === 0 ? undefined : `failed (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").pop() ?? ""}`),
    );
    child.stdin.on("error", () => {}); // a notify that does not read its stdin is fine
    child.stdin.end(body);
  });
}
