// git hooks that hang or leave processes behind: a pin is bounded, names the hook, and changes nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, snapshot, until, type World } from "./support/world.js";
import { signal, startedIn } from "./support/proctree.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

const fleet = (w: World, ref: string) =>
  `version = 1\n\n${harnessToml("h", w.harnessUrl).replace("timeout_s = 30", "timeout_s = 3")}\n` +
  `[projects.alpha]\nlocation = "alpha"\nharness = "h"\nref = "${ref}"\nenabled = false\n`;

/** This world's processes running `args` (the oracle is /proc, not po): a hook's comment is not in its argv. */
const running = (w: World, args: string) => startedIn(w.root).filter((p) => p.args.join(" ") === args);

describe("git hooks during a pin", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    dir = makeProject(w, "alpha", "v0.1.0");
  });
  after(() => {
    if (!w) return;
    w.cleanup();
    // what the hooks left (the post-commit one on purpose)
    for (const p of startedIn(w.root)) signal(p, "SIGKILL");
  });

  it("a pre-commit hook that hangs ends in one line naming the hook and the project, and nothing changes", async () => {
    const hook = join(dir, ".git", "hooks", "pre-commit");
    writeFileSync(hook, `#!/bin/sh\nexec sleep 300\n`);
    chmodSync(hook, 0o755);
    writeFileSync(join(w.root, "fleet.toml"), fleet(w, "v0.2.0"));
    const before = snapshot(w, dir);
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /alpha: pin FAILED .*git commit of the pin in .*alpha hung in its pre-commit hook for 3 s/);
    assert.equal(snapshot(w, dir), before, "HEAD, index and the engine checkout are as they were");
    await until(() => running(w, "sleep 300").length === 0, 10_000, "the hook's sleep 300 to be stopped");
  });

  it("a post-commit hook that leaves a process holding git's output does not hold the pin", () => {
    const hook = join(dir, ".git", "hooks", "post-commit");
    writeFileSync(join(dir, ".git", "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n");
    writeFileSync(hook, `#!/bin/sh\n(sleep 301) &\nexit 0\n`);
    chmodSync(hook, 0o755);
    const r = w.po(["apply", "--yes"], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.equal(
      w.git(dir, "ls-tree", "HEAD", "engine").split(/\s/)[2],
      w.git(w.harnessUrl, "rev-parse", "v0.2.0").trim(),
    );
    assert.equal(running(w, "sleep 301").length, 1, "the hook's process lives on (until after() ends it)");
  });
});
