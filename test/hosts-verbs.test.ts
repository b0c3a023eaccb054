// po logs, attach, outdated and validate --deep of projects on other hosts, and their pins named by
// tag, over real OpenSSH (test/support/sshd.ts); logs --follow and attach also at a real terminal (a
// pane of this test's tmux server), where po runs ssh -t.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { CLI, oneLine, poInPane, screen, until } from "./support/world.js";
import { poBackground, stopBackground } from "./support/apply-world.js";
import { shellQuote } from "../src/adapters/tmux.js";

/** The command lines of `po remote VERB` on this machine (which every host is): none may outlive its caller. */
function remotePos(verb: string): string[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8");
      } catch {
        return ""; // it ended meanwhile
      }
    })
    .filter((cmd) => cmd.includes(`\0remote\0${verb}\0--protocol\0`));
}

describe("logs, attach, outdated and validate --deep across machines", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const fleet = (gammaRef = "v0.1.0") =>
    x.writeFleet({
      alpha: { ref: "v0.1.0", enabled: true },
      gamma: { host: "h1", ref: gammaRef, enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });
  const onH1 = (...args: string[]) => x.hosts.onHost("h1", ["tmux", ...args]).stdout;

  before(async () => {
    x = await hostsWorld("po-hosts-verbs-");
    x.make("alpha", undefined, "v0.1.0");
    const gamma = x.make("gamma", "h1", "v0.1.0");
    writeFileSync(
      join(gamma, "agents.toml"),
      `[agents.a]\ncommand = ["sh", "-c", "echo MARKER-gamma; exec sleep 3600"]\nwatch = "none"\n`,
    );
    x.w.git(gamma, "commit", "-qam", "an agent that says something");
    x.make("delta", "h2", "v0.1.0");
    fleet();
    const r = po("apply", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await until(() => onH1("capture-pane", "-p", "-t", "=gamma-a:").includes("MARKER-gamma"), 15_000, "gamma's screen");
  });
  after(async () => {
    await stopBackground();
    await x?.dispose();
  });

  it("names a remote pin by its tag in plan and status, as a local one", () => {
    x.writeFleet({
      alpha: { ref: "v0.2.0", enabled: true },
      gamma: { host: "h1", ref: "v0.2.0", enabled: true },
      delta: { host: "h2", ref: "v0.1.0", enabled: false },
    });
    const plan = po("plan");
    const pin = / +~ pin h v0\.1\.0 → v0\.2\.0 \([0-9a-f]{7} → [0-9a-f]{7}\), restart$/m;
    assert.match(plan.stdout, new RegExp(`^alpha${pin.source}`, "m"));
    assert.match(plan.stdout, new RegExp(`^gamma@h1${pin.source}`, "m"));
    const rows = (JSON.parse(po("status", "--json").stdout) as { projects: { name: string; pinnedTag?: string }[] })
      .projects;
    assert.deepEqual(
      rows.map((r) => [r.name, r.pinnedTag]),
      [
        ["alpha", "v0.1.0"],
        ["delta", "v0.1.0"],
        ["gamma", "v0.1.0"],
      ],
    );
    assert.match(po("status").stdout, /^gamma@h1 +enabled +h@v0\.2\.0 +[0-9a-f]{7} \(v0\.1\.0\) /m);
    fleet();
  });

  it("po outdated shows the pins of remote projects beside local ones, counted against the newest release", () => {
    const behind = Number(x.w.git(x.w.harnessUrl, "rev-list", "--count", "v0.1.0..v0.2.0").trim());
    const r = po("outdated", "--json");
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const rows = (JSON.parse(r.stdout) as { projects: Record<string, unknown>[] }).projects;
    assert.deepEqual(
      rows.map((x) => [x.project, x.host, x.pinnedTag, x.newest, x.behind, x.outdated]),
      [
        ["alpha", undefined, "v0.1.0", "v0.2.0", behind, true],
        ["delta", "h2", "v0.1.0", "v0.2.0", behind, true],
        ["gamma", "h1", "v0.1.0", "v0.2.0", behind, true],
      ],
    );
    const text = po("outdated", "gamma");
    assert.match(
      text.stdout,
      new RegExp(`^gamma@h1 +h +v0\\.1\\.0 +v0\\.1\\.0 +v0\\.2\\.0 +${behind} +outdated$`, "m"),
    );
  });

  it("po logs of a remote project: its screen, --lines, --json, --harness, and one-line refusals", () => {
    const r = po("logs", "gamma");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "MARKER-gamma\n");
    assert.equal(po("logs", "gamma", "a", "--lines", "1").stdout, "MARKER-gamma\n");
    const json = JSON.parse(po("logs", "gamma", "--json").stdout) as { agent: string; session: string }[];
    assert.deepEqual(
      json.map((s) => [s.agent, s.session]),
      [["a", "gamma-a"]],
    );
    const harness = po("logs", "gamma", "--harness");
    assert.equal(harness.code, 0, harness.stderr);
    const kept = join(x.w.root, "state-h1", "po", "harness", "gamma.up.log");
    assert.ok(harness.stdout.startsWith(`==> harness up (${kept}) <==\n# apply `), harness.stdout);
    const typo = po("logs", "gamma", "nobody");
    assert.equal(typo.code, 1);
    assert.match(oneLine(typo.stderr), /^po: logs: gamma has no agent 'nobody'.*; its agents: a$/);
    const stopped = po("logs", "delta");
    assert.equal(stopped.code, 1);
    assert.match(
      oneLine(stopped.stderr),
      /^po: delta is not running: no live tmux session for a \(session delta-a\); /,
    );
  });

  it("po logs --follow of a remote project without a terminal: streams, and ends on SIGINT with the remote po", async () => {
    const bg = poBackground(x.w, ["logs", "gamma", "--follow"]);
    await until(() => bg.output().includes("MARKER-gamma"), 30_000, "the screen so far");
    // its command line, which anyone on the host can read, names the project but not its harness url
    const [cmd] = remotePos("logs");
    assert.match(cmd ?? "", /"name":"gamma","location":"~\/gamma"/);
    assert.ok(!cmd!.includes(x.w.harnessUrl), cmd);
    onH1("send-keys", "-t", "=gamma-a:", "typed-while-following", "Enter");
    await until(() => bg.output().includes("typed-while-following"), 30_000, "the new line followed");
    process.kill(bg.pid, "SIGINT");
    const done = await bg.done;
    assert.equal(done.code, 0, done.stdout + done.stderr);
    await until(() => remotePos("logs").length === 0, 15_000, "the remote po logs to end");
  });

  it("po logs --follow of a remote project at a terminal (ssh -t): Ctrl-C reaches the remote po", async () => {
    poInPane(x.w, "follow", ["logs", "gamma", "--follow"]);
    await until(() => screen(x.w, "follow").includes("MARKER-gamma"), 30_000, "the screen so far");
    onH1("send-keys", "-t", "=gamma-a:", "typed-at-a-terminal", "Enter");
    await until(() => screen(x.w, "follow").includes("typed-at-a-terminal"), 30_000, "the new line followed");
    x.w.tmux("send-keys", "-t", "=follow:", "C-c");
    await until(() => screen(x.w, "follow").includes("[exit "), 30_000, "follow to end");
    assert.match(screen(x.w, "follow"), /\[exit 0\]/);
    await until(() => remotePos("logs").length === 0, 15_000, "the remote po logs to end");
  });

  it("po attach of a remote project joins its session on the host until the client detaches", async () => {
    const cmd = `unset TMUX; ${[process.execPath, CLI, "attach", "gamma"].map(shellQuote).join(" ")}; echo "[exit $?]"; sleep 60`;
    x.w.tmux("new-session", "-d", "-s", "term", "-x", "120", "-y", "30", "-c", x.w.root, "sh", "-c", cmd);
    const clients = () => onH1("list-clients", "-t", "=gamma-a", "-F", "#{client_session}");
    await until(() => clients().includes("gamma-a"), 30_000, "a client attached to gamma-a on h1");
    x.hosts.onHost("h1", ["tmux", "detach-client", "-s", "=gamma-a"]);
    await until(() => screen(x.w, "term").includes("[exit "), 30_000, "attach to end");
    assert.match(screen(x.w, "term"), /\[exit 0\]/);
    const r = po("attach", "gamma");
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), "po: attach: no terminal to attach; po logs gamma prints the screen instead");
  });

  it("po validate --deep checks remote projects through their host's po, changing nothing", () => {
    const ok = po("validate", "--deep");
    assert.equal(ok.code, 0, ok.stderr);
    const delta = x.dir("delta");
    writeFileSync(join(delta, "fleet.toml"), "version = 1\n");
    x.w.git(delta, "add", "fleet.toml");
    x.w.git(delta, "commit", "-qm", "a fleet file where none belongs");
    const head = x.w.git(delta, "rev-parse", "HEAD");
    const bad = po("validate", "--deep");
    assert.equal(bad.code, 1);
    assert.match(
      oneLine(bad.stderr),
      /^\/.*fleet\.toml:\d+:\d+: projects\.delta: on host h2: tracks fleet\.toml, which belongs to the orchestrator; /,
    );
    assert.equal(x.w.git(delta, "rev-parse", "HEAD"), head);
    assert.deepEqual([x.sessions("h1"), x.sessions("h2")], [["gamma-a"], []]);
    x.w.git(delta, "rm", "-q", "--cached", "fleet.toml");
    x.w.git(delta, "commit", "-qm", "the fleet file goes");
  });

  it("a host down: logs, outdated and validate --deep name it in one line each and exit 1", async () => {
    await x.hosts.stop("h2");
    const down = /host h2 \(ssh h2\) cannot be reached: .*Connection refused; check it with ssh h2 true$/;
    const logs = po("logs", "delta");
    assert.equal(logs.code, 1);
    assert.match(oneLine(logs.stderr), new RegExp(`^po: ${down.source}`));
    const outdated = po("outdated");
    assert.equal(outdated.code, 1, outdated.stdout + outdated.stderr);
    assert.match(oneLine(outdated.stderr), new RegExp(`^po: delta: ${down.source}`));
    assert.match(outdated.stdout, /^delta@h2 +h +v0\.1\.0 +none +v0\.2\.0 +\? +error$/m);
    assert.match(outdated.stdout, /^gamma@h1 .* outdated$/m);
    const deep = po("validate", "--deep");
    assert.equal(deep.code, 1);
    assert.match(oneLine(deep.stderr), new RegExp(`fleet\\.toml:\\d+:\\d+: projects\\.delta: ${down.source}`));
  });
});
