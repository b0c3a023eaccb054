// po status and shell completion of projects on other hosts, over real OpenSSH (test/support/sshd.ts):
// per-agent rows told by the host's po (the harness status argv run there, never here), --no-harness
// carried to the host, a dead pane there, and agent names completed through the host within a bound.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { sshdSkip } from "./support/sshd.js";
import { hostsWorld, type HostsWorld } from "./support/hosts-world.js";
import { until } from "./support/world.js";

interface AgentRow {
  agent: string;
  session: string;
  live: boolean;
  state?: string;
  since?: string;
  detail?: string;
  silent_s?: number;
}
interface StatusJson {
  projects: { name: string; agents?: AgentRow[]; notes?: string[] }[];
}

describe("po status and completion of projects on other hosts", { skip: sshdSkip(), timeout: 240_000 }, () => {
  let x: HostsWorld;
  const po = (...args: string[]) => x.w.po(args, { timeoutMs: 120_000 });
  const status = (...args: string[]) => {
    const r = po("status", "--json", ...args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as StatusJson;
  };
  const project = (s: StatusJson, name: string) => s.projects.find((p) => p.name === name)!;
  // the harness status argv leaves a line in $HOME wherever it runs, and each host has a home of its own
  const runs = (home: string) => {
    const f = join(home, "status-ran");
    return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean).length : 0;
  };
  const runsHereAndOnH1 = () => [runs(x.w.env.HOME!), runs(join(x.w.root, "home-h1"))];
  const onH1 = (...args: string[]) => x.hosts.onHost("h1", ["tmux", ...args]).stdout.trim();

  before(async () => {
    x = await hostsWorld("po-hosts-status-");
    x.make("alpha", undefined, "v0.1.0");
    x.make("gamma", "h1", "v0.1.0");
    x.make("delta", "h2", "v0.1.0");
    x.writeFleet(
      {
        alpha: { ref: "v0.1.0", enabled: true },
        gamma: { host: "h1", ref: "v0.1.0", enabled: true },
        delta: { host: "h2", ref: "v0.1.0", enabled: false },
      },
      { status: ["sh", "-c", 'echo ran >> "$HOME/status-ran"; exec node engine/harness.mjs status'] },
    );
    const r = po("apply", "--yes");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  after(async () => {
    await x?.dispose();
  });

  it("shows a remote project's agents as it shows a local one's, as its host's po and harness tell them", () => {
    const s = status();
    // the same row for alpha-a here and gamma-a on h1, but for the names and the times
    const shape = (rows: AgentRow[] | undefined) =>
      rows?.map((a) => ({
        ...a,
        session: a.session.replace(/^[a-z]+-/, ""),
        since: typeof a.since,
        silent_s: typeof a.silent_s,
      }));
    assert.deepEqual(shape(project(s, "gamma").agents), shape(project(s, "alpha").agents));
    assert.deepEqual(
      project(s, "gamma").agents!.map((a) => [a.agent, a.session, a.live, a.state, a.detail]),
      [["a", "gamma-a", true, "running", "no report yet"]],
    );
    assert.deepEqual(
      project(s, "delta").agents!.map((a) => [a.agent, a.session, a.live, a.state]),
      [["a", "delta-a", false, "stopped"]],
    );
    assert.deepEqual([project(s, "gamma").notes, project(s, "delta").notes], [[], []]);
    const text = po("status");
    assert.match(text.stdout, /^gamma +a +live +running \(no report yet\) +\S+ +\d+s +\S+$/m);
    assert.equal(text.stderr, "");
  });

  it("runs a remote project's harness status argv on its host, never here; --no-harness reaches the host", () => {
    const [here, onH1Before] = runsHereAndOnH1();
    status("gamma");
    assert.deepEqual(runsHereAndOnH1(), [here, onH1Before + 1]);
    const tmuxOnly = status("gamma", "--no-harness");
    assert.deepEqual(runsHereAndOnH1(), [here, onH1Before + 1]);
    // what the host's tmux knows, and nothing of the harness
    assert.deepEqual(
      project(tmuxOnly, "gamma").agents!.map((a) => [a.agent, a.live, Object.keys(a).sort().join(",")]),
      [["a", true, "agent,live,session,silent_s"]],
    );
  });

  it("a pane that died on the host is a dead agent there; --detailed-exitcode says 2", async () => {
    assert.equal(x.hosts.onHost("h1", ["tmux", "set-option", "-t", "=gamma-a:", "remain-on-exit", "on"]).code, 0);
    process.kill(Number(onH1("display-message", "-p", "-t", "=gamma-a:", "#{pane_pid}")), "SIGKILL");
    await until(
      () => onH1("display-message", "-p", "-t", "=gamma-a:", "#{pane_dead}") === "1",
      10_000,
      "the pane to die",
    );
    const r = po("status", "--json", "--detailed-exitcode");
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(
      project(JSON.parse(r.stdout) as StatusJson, "gamma").agents!.map((a) => [a.agent, a.live, a.state]),
      [["a", false, "stopped"]],
    );
    assert.match(po("status").stdout, /^gamma +a +dead +stopped /m);
  });

  // a loaded machine may need more than the 3 s a Tab waits by default
  const complete = (words: string[], waitS = "30") =>
    x.w.po(["completion", "complete", "--", ...words], {
      timeoutMs: 60_000,
      env: { ...x.w.env, PO_COMPLETION_TIMEOUT_S: waitS },
    });

  it("completes a remote project's agent names through its host; $PO_COMPLETION_TIMEOUT_S bounds the wait", () => {
    for (const verb of ["logs", "attach"]) {
      const r = complete([verb, "gamma", ""]);
      assert.deepEqual([r.code, r.stdout], [0, "a\n"], `${verb}: ${r.stderr}`);
    }
    assert.equal(complete(["logs", "gamma", "b"]).stdout, "");
    const hasty = complete(["logs", "gamma", ""], "0.001");
    assert.deepEqual([hasty.code, hasty.stdout], [0, ""], "no host answers within a millisecond");
  });

  it("a host that is down, or never answers, completes nothing, and the completion ends within its bound", async () => {
    await x.hosts.stop("h2");
    const down = complete(["logs", "delta", ""], ""); // "": the default bound, 3 s
    assert.deepEqual([down.code, down.stdout], [0, ""], down.stderr);
    // a host that takes the connection and never says a word: ssh would wait for it
    const held: Socket[] = [];
    const hole = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = hole.address() as { port: number };
      appendFileSync(x.hosts.config, `Host hole\n  HostName 127.0.0.1\n  Port ${port}\n`);
      appendFileSync(
        join(x.w.root, "fleet.toml"),
        `\n[hosts.hole]\nssh = "hole"\n\n[projects.lost]\nhost = "hole"\nlocation = "~/lost"\n` +
          `harness = "h"\nref = "v0.1.0"\nenabled = false\n`,
      );
      const silent = complete(["logs", "lost", ""], "");
      assert.deepEqual([silent.code, silent.stdout], [0, ""], `completion against a silent host: ${silent.stderr}`);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });
});
