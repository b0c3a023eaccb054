// po at a real terminal (a tmux pane of the test's own server): colour, and apply's confirmation.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  makeProject,
  makeWorld,
  poInPane,
  screen as screenOf,
  until,
  writeFleet,
  type World,
} from "./support/world.js";
import { gate } from "./support/apply-world.js";

describe("at a terminal", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    writeFleet(w, { alpha: { ref: "v0.1.0" } });
  });
  after(() => w?.cleanup());

  const pane = (name: string, args: string[], color: boolean) => poInPane(w, name, args, color);
  const screen = (name: string, escapes = false) => screenOf(w, name, escapes);

  it("colours the plan on a terminal, and not with NO_COLOR", async () => {
    pane("colour", ["plan"], true);
    await until(() => screen("colour").includes("[exit 0]"), 15_000, "plan to finish");
    assert.match(screen("colour", true), /\x1b\[[0-9;]*m\+/);
    pane("plain", ["plan"], false);
    await until(() => screen("plain").includes("[exit 0]"), 15_000, "plan to finish");
    assert.doesNotMatch(screen("plain", true), /\x1b\[3[0-9]m\+/);
  });

  it("a Ctrl-C at the terminal lets a running git commit finish (git runs in its own session)", async () => {
    const dir = makeProject(w, "hooked", "v0.1.0");
    // A pre-commit hook that waits at a gate keeps the pin's git commit running while the terminal
    // sends Ctrl-C; the gate opens once po has heard it.
    const g = gate(w, "hook");
    writeFileSync(join(dir, ".git", "hooks", "pre-commit"), `#!/bin/sh\n${g.wait}\n`, { mode: 0o755 });
    writeFleet(w, { alpha: { ref: "v0.1.0" }, hooked: { ref: "v0.2.0", enabled: false } });
    const head = w.git(dir, "rev-parse", "HEAD");
    pane("interrupt", ["apply", "--yes", "--target", "hooked"], false);
    await until(() => existsSync(g.reached), 20_000, "the pin's commit hook to run");
    w.tmux("send-keys", "-t", "=interrupt:", "C-c");
    await until(() => screen("interrupt").includes("interrupted"), 20_000, "po to hear the Ctrl-C");
    g.open();
    await until(() => /\[exit \d+\]/.test(screen("interrupt")), 20_000, "apply to end");
    assert.match(screen("interrupt"), /\[exit 130\]/);
    assert.match(screen("interrupt").replace(/\n/g, ""), /hooked: pin ok/);
    assert.equal(w.git(dir, "rev-parse", "HEAD~1"), head, "the pin was committed");
    assert.ok(!existsSync(join(dir, ".git", "index.lock")));
  });

  it("asks before applying: anything but yes cancels, yes applies", async () => {
    pane("no", ["apply"], false);
    await until(() => screen("no").includes("Only 'yes' will be accepted"), 15_000, "the question");
    w.tmux("send-keys", "-t", "=no:", "y", "Enter");
    await until(() => screen("no").includes("[exit 1]"), 15_000, "cancel");
    assert.match(screen("no"), /cancelled; nothing was changed/);
    assert.ok(!w.sessions().includes("alpha-a"));
    pane("yes", ["apply"], false);
    await until(() => screen("yes").includes("Only 'yes' will be accepted"), 15_000, "the question");
    w.tmux("send-keys", "-t", "=yes:", "yes", "Enter");
    await until(() => screen("yes").includes("[exit 0]"), 30_000, "apply");
    assert.ok(w.sessions().includes("alpha-a"));
  });
});
