// po remote: the other end of po over ssh (docs/hosts.md). Not for operators: the po of the
// machine holding fleet.toml runs it on each host, with one JSON request line on stdin.
import { createInterface } from "node:readline";
import { parseVerb, COMMON_HELP } from "./args.js";
import { UserError } from "../common/problems.js";
import { checkProtocol, hostStateDir, type ApplyEvent, type Interrupt, type Request } from "../remote/protocol.js";
import type { SessionRequest } from "../remote/protocol.js";
import { here, serveApply, serveInfo, serveObserve, serveValidate, type Interrupts } from "../remote/serve.js";

export const summary = "the other end of po over ssh (run by po, not by hand)";
const help = `Usage: po remote observe|apply|validate|info|logs|attach --protocol N [--request JSON]

Run by po on another host over ssh, never by hand: reads one JSON request line on stdin and
answers in JSON on stdout (observe, validate, info: one document; apply: one line per event), in
protocol N. logs and attach take their request as --request JSON, since their stdin is the
operator's terminal, and answer as po logs and po attach do. A po that speaks another protocol
refuses in one line naming both versions. docs/hosts.md.

Options:
  --protocol N    the protocol the caller speaks (required)
  --request JSON  the request of logs and attach
${COMMON_HELP}`;

const VERBS = ["observe", "apply", "validate", "info", "logs", "attach"];

function parsed<T>(line: string): Partial<T> | undefined {
  try {
    return (JSON.parse(line) as Partial<T> | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The request line, then (apply) the caller's interrupts; its stdin ending counts as Ctrl-C once. */
function readInput(interrupts: Interrupts): Promise<Request> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  return new Promise((resolve, reject) => {
    let request: Request | undefined;
    lines.on("line", (line) => {
      if (request) {
        const { interrupt: what, reason } = parsed<Interrupt>(line) ?? {};
        if (what === "hard") interrupts.hard.abort();
        if (what) interrupts.soft.abort(reason);
        return;
      }
      try {
        request = JSON.parse(line) as Request;
        checkProtocol(request.protocol, "the request's");
        resolve(request);
      } catch (e) {
        reject(e instanceof UserError ? e : new UserError(`remote: the request is not JSON: ${(e as Error).message}`));
      }
    });
    lines.on("close", () => {
      interrupts.soft.abort();
      if (!request) reject(new UserError("remote: no request on stdin"));
    });
  });
}

/** logs or attach of one project of this host, at the caller's terminal (or pipe). */
async function session(verb: "logs" | "attach", raw: unknown): Promise<number> {
  const request = typeof raw === "string" ? parsed<SessionRequest>(raw) : undefined;
  if (!request?.project || (verb === "logs" && !request.logs))
    throw new UserError(`remote ${verb}: --request takes the JSON of a ${verb} request`);
  checkProtocol(Number(request.protocol), "the request's");
  const project = here(request.project);
  if (verb === "attach") return (await import("./attach.js")).attachTo(project, request.agent);
  // Without a terminal, the caller holds this stdin open while it runs: its end means the caller is gone.
  const gone = new AbortController();
  if (!process.stdin.isTTY) process.stdin.on("close", () => gone.abort()).resume();
  const { showLogs } = await import("./logs.js");
  return showLogs(project, request.agent, request.logs!, hostStateDir(), gone.signal);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("remote", argv, { protocol: { type: "string" }, request: { type: "string" } }, help);
  if (!args) return 0;
  const [verb, ...rest] = args.positionals;
  if (!VERBS.includes(verb ?? "") || rest.length)
    throw new UserError(`remote takes one of ${VERBS.join(", ")}; see po remote --help`);
  if (args.values.protocol === undefined) throw new UserError("remote: --protocol N is required");
  checkProtocol(Number(args.values.protocol), "remote:");
  // The caller may vanish mid-answer: what was not delivered is lost, the work here still ends cleanly.
  process.stdout.on("error", () => {});
  if (verb === "logs" || verb === "attach") return session(verb, args.values.request);
  const out = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);
  if (verb === "info") {
    out(await serveInfo());
    return 0;
  }
  const interrupts: Interrupts = { soft: new AbortController(), hard: new AbortController() };
  try {
    const request = await readInput(interrupts);
    if (verb === "observe") out(await serveObserve(request));
    else if (verb === "validate") out(await serveValidate(request));
    else await serveApply(request, interrupts, (e: ApplyEvent) => out(e));
    return 0;
  } finally {
    process.stdin.destroy(); // an open stdin would keep this po alive after its answer, and its caller waiting
  }
}
