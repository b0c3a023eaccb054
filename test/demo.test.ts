// npm run demo, end to end, as a newcomer runs it: exit 0, a "No changes" plan, nothing left running.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

it("the demo tells the whole story and cleans up its sessions", () => {
  const demo = join(dirname(fileURLToPath(import.meta.url)), "../src/sandbox/demo.js");
  const r = spawnSync(process.execPath, [demo], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const step of [
    "$ po plan",
    "$ po apply --yes",
    "No changes. The fleet is up to date.",
    "$ po update alpha v0.2.0",
    "$ po stop beta",
    "$ po status",
  ])
    assert.ok(r.stdout.includes(step), step);
  assert.match(r.stdout, /alpha .* ~ pin demo v0\.1\.0 → v0\.2\.0/);
  const tmux = /export TMUX_TMPDIR=(\S+)/.exec(r.stdout)?.[1];
  assert.ok(tmux, "the demo tells where its sandbox is");
  const live = spawnSync("tmux", ["list-sessions"], {
    env: { ...process.env, TMUX_TMPDIR: tmux, TMUX: "" },
    encoding: "utf8",
  });
  assert.notEqual(live.status, 0, `no sessions left: ${live.stdout}`);
  rmSync(dirname(tmux), { recursive: true, force: true });
});
