// The operator's day at a real terminal (panes of the test's own tmux server): apply's progress
// lines during a long action, po restart's question, po attach joining the agent's session, and
// po logs --follow printing what appears until Ctrl-C.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, makeProject, makeWorld, panePid, poInPane, screen, until, type World } from "./support/world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { shellQuote } from "../src/adapters/tmux.js";

describe("the operator's day at a terminal", () => {
  let w: World;
  const release = () => writeFileSync(join(w.root, "RELEASE"), "");
  before(() => {
    w = makeWorld("po-opterm-");
    const dir = makeProject(w, "alpha", "v0.2.0", ["main"]);
    writeFileSync(join(dir, "agents.toml"), `[agents.main]\ncommand = ["sh", "-c", "echo ready; exec sleep 3600"]\n`);
    w.git(dir, "commit", "-qam", "an agent that says ready");
    // The harness's up waits for the test to release it, so that the apply runs as long as needed.
    const wait = `while [ ! -f ${join(w.root, "RELEASE")} ]; do sleep 0.1; done; exec node engine/harness.mjs up`;
    const harness = harnessToml("h", w.harnessUrl).replace(/^up = .*$/m, `up = ${JSON.stringify(["sh", "-c", wait])}`);
    writeFileSync(
      join(w.root, "fleet.toml"),
      `version = 1\n\n${harness}\n[projects.alpha]\nlocation = "alpha"\nharness = "h"\nref = "v0.2.0"\n` +
        `enabled = true\n`,
    );
  });
  after(() => w?.cleanup());

  it("reports a long action every few seconds while it runs", async () => {
    poInPane(w, "long", ["apply", "--yes"]);
    await until(() => /alpha: start \(still running, \d+s\)/.test(screen(w, "long")), 30_000, "a progress line");
    release();
    await until(() => screen(w, "long").includes("[exit "), 30_000, "the apply to end");
    assert.match(screen(w, "long"), /alpha: start ok/);
    assert.match(screen(w, "long"), /\[exit 0\]/);
  });

  it("po restart asks at a terminal, and yes restarts", async () => {
    const before = panePid(w, "alpha-main");
    poInPane(w, "restart", ["restart", "alpha"]);
    await until(() => screen(w, "restart").includes("Only 'yes' will be accepted"), 15_000, "the question");
    assert.match(screen(w, "restart"), /alpha {2}~ restart \(po restart: 1\/1 sessions live\)\n\nPlan: 1 to restart\./);
    w.tmux("send-keys", "-t", "=restart:", "yes", "Enter");
    await until(() => screen(w, "restart").includes("[exit "), 30_000, "the restart to end");
    assert.match(screen(w, "restart"), /\[exit 0\]/);
    assert.notEqual(panePid(w, "alpha-main"), before);
  });

  it("po attach joins the agent's session until the client detaches", async () => {
    const po = [process.execPath, CLI, "attach", "alpha"].map(shellQuote).join(" ");
    const cmd = `unset TMUX; ${po}; echo "[exit $?]"; sleep 60`;
    w.tmux("new-session", "-d", "-s", "term", "-x", "120", "-y", "30", "-c", w.root, "sh", "-c", cmd);
    const clients = () => w.tmux("list-clients", "-t", "=alpha-main", "-F", "#{client_session}").stdout;
    await until(() => clients().includes("alpha-main"), 15_000, "a client attached to alpha-main");
    w.tmux("detach-client", "-s", "=alpha-main");
    await until(() => screen(w, "term").includes("[exit "), 15_000, "attach to end");
    assert.match(screen(w, "term"), /\[exit 0\]/);
  });

  it("po logs --follow prints what appears on the agent's screen until Ctrl-C", async () => {
    await until(() => w.tmux("capture-pane", "-p", "-t", "=alpha-main:").stdout.includes("ready"), 15_000, "ready");
    poInPane(w, "follow", ["logs", "alpha", "--follow"]);
    await until(() => screen(w, "follow").includes("ready"), 15_000, "the screen so far");
    w.tmux("send-keys", "-t", "=alpha-main:", "typed-while-following", "Enter");
    await until(() => screen(w, "follow").includes("typed-while-following"), 15_000, "the new line followed");
    w.tmux("send-keys", "-t", "=follow:", "C-c");
    await until(() => screen(w, "follow").includes("[exit "), 15_000, "follow to end");
    assert.match(screen(w, "follow"), /\[exit 0\]/);
  });
});
