// po logs and po attach of a project on another host: the host's po does them there, over one ssh
// call with po's ssh settings, its output streamed to the operator and its exit code passed through.
import { spawn } from "node:child_process";
import type { DesiredProject, HostSpec } from "../../reconcile/model.js";
import { UserError } from "../common/problems.js";
import { PROTOCOL, type SessionRequest } from "./protocol.js";
import { hostFailure, sshArgs, sshEnd } from "./ssh.js";

export interface SessionOptions {
  /** ssh -t: the operator's terminal becomes the remote po's (Ctrl-C and the screen reach it there) */
  tty: boolean;
  /** undefined: as long as the operator stays (attach, logs --follow) */
  timeoutMs?: number;
}

/** Runs `po remote VERB` on `host` for `p`; resolves to its exit code, or refuses in one line naming the host. */
export function sessionOnHost(
  host: HostSpec,
  verb: "logs" | "attach",
  p: DesiredProject,
  more: Pick<SessionRequest, "agent" | "logs">,
  opts: SessionOptions,
): Promise<number> {
  const project = { name: p.name, location: p.location, harness: { session: p.harness.session } };
  const request: SessionRequest = { protocol: PROTOCOL, project, ...more };
  const words = ["remote", verb, "--protocol", String(PROTOCOL), "--request", JSON.stringify(request)];
  // Without a terminal, stdin is a pipe that stays open while po runs: the remote po follows until it ends.
  const child = spawn("ssh", sshArgs(host, [...host.po, ...words], opts.tty), {
    stdio: [opts.tty ? "inherit" : "pipe", "inherit", "pipe"],
  });
  // ssh's stderr is held until it ends: when ssh itself fails, its words go into the one line naming the host
  const ended = sshEnd(child, opts.timeoutMs);
  // A SIGINT that reaches po (Ctrl-C at a pipeline, or kill -INT): without a terminal, closing the remote
  // po's stdin ends it as it ends --follow; with one, Ctrl-C goes through the terminal, and this ends ssh.
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
    if (opts.tty) child.kill("SIGTERM");
    else child.stdin!.end();
  };
  process.on("SIGINT", onInt);
  return ended.then((r) => {
    process.off("SIGINT", onInt);
    // interrupted: ssh's "Killed by signal" is no news about the host
    if (interrupted && r.code !== 0) return 130;
    // 255: ssh failed; 126/127: the host has no such po. Either way the remote po never spoke.
    if (r.timedOut || r.code === 255 || r.code === 126 || r.code === 127) throw new UserError(hostFailure(host, r));
    process.stderr.write(r.stderr);
    return r.code ?? 130;
  });
}
