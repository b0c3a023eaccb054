// The revert after a start that failed following a pin, --no-revert, and a canary that holds the
// next waves until the operator says yes. A real harness whose release 0.4.0 cannot start.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeRolloutWorld, type RolloutWorld } from "./support/rollout-world.js";

describe("rollout: revert, --no-revert and the canary", () => {
  let r: RolloutWorld;
  before(() => {
    r = makeRolloutWorld(["q1", "q2", "q3"]);
    r.release("0.4.0", ["v0.4.0"]);
  });
  after(() => r?.w.cleanup());
  const dir = (p: string) => join(r.w.root, p);

  it("a start that fails after a pin: stopped, the old commit pinned again by a new commit, started", () => {
    const head = r.sha(dir("q1"), "HEAD");
    const res = r.w.po(["update", "q1", "v0.4.0", "--yes", "--wave", "1"]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.equal(r.sha(dir("q1"), "HEAD~2"), head);
    assert.match(r.w.git(dir("q1"), "ls-tree", "HEAD~1", "engine"), new RegExp(r.sha(r.H, "v0.4.0")));
    assert.equal(r.pin("q1"), r.sha(r.H, "v0.1.0^{commit}"));
    assert.match(
      res.stdout,
      new RegExp(
        "^q1: REVERTED: start failed: harness 'rh' up \\(.*\\) failed with exit code 3: harness 0\\.4\\.0: " +
          "cannot start; harness down was run, so nothing of it is left running; reverted to v0\\.1\\.0 \\([0-9a-f]{7}\\), its agents running$",
        "m",
      ),
    );
    assert.match(r.w.git(dir("q1"), "log", "-1", "--format=%B"), /v0\.4\.0 \([0-9a-f]{7}\) failed: start failed:/);
    assert.ok(r.w.sessions().includes("q1-main"));
  });

  it("--no-revert leaves the failed project as it is", () => {
    const head = r.sha(dir("q2"), "HEAD");
    const res = r.w.po(["update", "q2", "v0.4.0", "--yes", "--wave", "1", "--no-revert"]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.equal(r.sha(dir("q2"), "HEAD~1"), head);
    assert.equal(r.pin("q2"), r.sha(r.H, "v0.4.0"));
    assert.match(res.stdout, /^q2: FAILED, left as it is: start failed: harness 'rh' up/m);
    assert.ok(!r.w.sessions().includes("q2-main"));
  });

  it("after the canary, without a terminal and without --yes, the next waves are held; --yes goes on", () => {
    const set = r.w.po(["update", "q1", "q3", "v0.2.0", "--no-apply"]);
    assert.equal(set.code, 0, set.stderr);
    const q3 = { head: r.sha(dir("q3"), "HEAD"), created: r.created("q3") };
    const plan = r.w.po(["plan", "--target", "q1", "--target", "q3", "--out", "canary.plan"]);
    assert.equal(plan.code, 0, plan.stderr);
    const held = r.w.po(["apply", "canary.plan", "--canary", "1"]);
    assert.equal(held.code, 1, held.stdout + held.stderr);
    assert.equal(r.pin("q1"), r.sha(r.H, "v0.2.0"));
    assert.deepEqual({ head: r.sha(dir("q3"), "HEAD"), created: r.created("q3") }, q3);
    assert.match(held.stdout, /^held \(no further wave started, unchanged\): q3$/m);
    const on = r.w.po(["apply", "--yes", "--canary", "1", "--target", "q1", "--target", "q3"]);
    assert.equal(on.code, 0, on.stdout + on.stderr);
    assert.equal(r.pin("q3"), r.sha(r.H, "v0.2.0"));
  });
});
