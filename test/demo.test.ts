// npm run demo, end to end, as a newcomer runs it: exit 0, a "No changes" plan, nothing left running.
// The demo makes its sandbox under a TMPDIR of this test's own, so that a failing demo leaks nothing:
// the test kills whatever tmux server it left and removes the folder in any case.
import { after, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TMP = mkdtempSync(join(tmpdir(), "po-demo-test-"));
const tmuxIn = (sandbox: string, ...args: string[]) =>
  spawnSync("tmux", args, {
    env: { ...process.env, TMUX_TMPDIR: join(sandbox, ".tmux"), TMUX: "" },
    encoding: "utf8",
    timeout: 10_000,
  });
const sandboxes = () => readdirSync(TMP).map((d) => join(TMP, d));

after(() => {
  for (const s of sandboxes()) tmuxIn(s, "kill-server");
  rmSync(TMP, { recursive: true, force: true });
});

it("the demo tells the whole story and cleans up its sessions", () => {
  const demo = join(dirname(fileURLToPath(import.meta.url)), "../src/sandbox/demo.js");
  const r = spawnSync(process.execPath, [demo], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1", TMPDIR: TMP },
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
  const [sandbox] = sandboxes();
  assert.equal(sandboxes().length, 1, "one sandbox, in the TMPDIR it was given");
  assert.ok(r.stdout.includes(`export TMUX_TMPDIR=${join(sandbox!, ".tmux")}`), "the demo tells where it is");
  const live = tmuxIn(sandbox!, "list-sessions");
  assert.notEqual(live.status, 0, `no sessions left: ${live.stdout}`);
  assert.match(live.stderr, /no server running|error connecting/, "no server at all, not a tmux failure");
});
