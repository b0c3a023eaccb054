// The sshd support itself (test/support/sshd.ts), with ssh and tmux alone: two real hosts on loopback, each with
// its own environment and tmux server; one goes down alone and comes back on its port.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeWorld, until, type RunResult, type World } from "./support/world.js";
import { sshdSkip, startHosts, type Hosts } from "./support/sshd.js";

describe("real hosts over OpenSSH on loopback", { skip: sshdSkip(), timeout: 120_000 }, () => {
  let w: World;
  let hosts: Hosts;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    w = makeWorld("po-sshd-");
    hosts = await startHosts(w.root, ["h1", "h2"], { gitConfig: w.env.GIT_CONFIG_GLOBAL! });
    env = hosts.withSsh(w.env);
  });
  after(async () => {
    await hosts?.dispose();
    w?.cleanup();
  });

  /** `ssh ARGS…` as po runs it: by name, the wrapper first on PATH. */
  const ssh = (...args: string[]): RunResult => {
    const r = spawnSync("ssh", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const sessionsOn = (name: string) => hosts.onHost(name, ["tmux", "ls", "-F", "#{session_name}"]).stdout.split("\n");
  /** Pids of processes whose command line mentions this test's sshd_config (the listeners). */
  const ourSshds = () =>
    readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(join(w.root, "ssh", "sshd_config"));
        } catch {
          return false;
        }
      });

  it("each alias reaches its own host's environment", () => {
    for (const n of ["h1", "h2"]) {
      const vars = ["XDG_STATE_HOME", "TMUX_TMPDIR", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "PATH"];
      const r = ssh(n, "printenv", ...vars);
      assert.equal(r.code, 0, r.stderr);
      const [state, tmux, git, nosystem, path] = r.stdout.trim().split("\n");
      assert.equal(state, join(w.root, `state-${n}`));
      assert.equal(tmux, join(w.root, `tmux-${n}`));
      assert.equal(git, w.env.GIT_CONFIG_GLOBAL);
      assert.equal(nosystem, "1");
      assert.ok(path!.split(":").includes(dirname(process.execPath)), `node's folder on ${n}'s PATH: ${path}`);
    }
    // a client's own SetEnv (po's) passes through AcceptEnv, and the host's environment stays
    const r = ssh("-o", "SetEnv=PO_PROBE=yes TMUX_TMPDIR=/nowhere", "h1", "printenv", "PO_PROBE", "TMUX_TMPDIR");
    assert.deepEqual(r.stdout.trim().split("\n"), ["yes", join(w.root, "tmux-h1")], r.stderr);
  });

  it("ssh h1 tmux new-session lands on h1's tmux server, not on h2's nor the local one", () => {
    const r = ssh("h1", "tmux", "new-session", "-d", "-s", "x", "sleep", "100");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(sessionsOn("h1").includes("x"), `h1's sessions: ${sessionsOn("h1")}`);
    assert.notEqual(hosts.onHost("h2", ["tmux", "has-session", "-t", "=x"]).code, 0, "x is on h2's server");
    assert.notEqual(w.tmux("has-session", "-t", "=x").code, 0, "x is on the test's own tmux server");
  });

  it("host-key checking stays on: an unknown host key is refused without a prompt", () => {
    const empty = join(w.root, "ssh", "empty_known_hosts");
    writeFileSync(empty, "");
    const r = ssh("-o", `UserKnownHostsFile=${empty}`, "h1", "true");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Host key verification failed/);
  });

  it("stop h1: h1 refuses at once and its open connections end, h2 stays up; start h1: back on its port", async () => {
    // an open connection, known to be in place once the remote side speaks
    const open = spawn("ssh", ["h1", "echo ready; exec sleep 100"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let closed = false;
    open.stdout.on("data", (d) => {
      out += d;
    });
    open.once("close", () => {
      closed = true;
    });
    await until(() => out.includes("ready") || closed, 15_000, "ssh h1 to print ready");
    assert.equal(out.trim(), "ready");
    const port = hosts.port("h1");

    await hosts.stop("h1");
    await until(() => closed, 10_000, "the open ssh h1 connection to end after stop h1");
    const down = ssh("h1", "true");
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /Connection refused/, "refused at once, not left to time out");
    assert.equal(ssh("h2", "true").code, 0, "h2 went down with h1");
    assert.ok(sessionsOn("h1").includes("x"), "h1's tmux server lives on while its sshd is down");

    await hosts.start("h1");
    assert.equal(hosts.port("h1"), port);
    const up = ssh("h1", "printenv", "XDG_STATE_HOME");
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.trim(), join(w.root, "state-h1"));
  });

  it("dispose stops every sshd and every host's tmux server", async () => {
    assert.equal(ourSshds().length, 2);
    await hosts.dispose();
    assert.deepEqual(ourSshds(), []);
    for (const n of ["h1", "h2"]) assert.notEqual(hosts.onHost(n, ["tmux", "has-session"]).code, 0, `${n}'s tmux`);
    assert.notEqual(ssh("h2", "true").code, 0);
  });
});
