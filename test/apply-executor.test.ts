// Unit tests of the executor with an in-memory run port: ordering, concurrency, failure, interruption, replan.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { applyPlan } from "../reconcile/apply.js";
import type { ActionResult, ApplyPorts } from "../reconcile/apply.js";
import type { Action, ActionKind } from "../reconcile/model.js";

function act(project: string, kind: ActionKind): Action {
  return { project, kind, reason: `${kind} ${project}` };
}

const tag = (a: Action): string => `${a.project} ${a.kind}`;
const outcomes = (rs: ActionResult[]): string[] => rs.map((r) => `${tag(r.action)} ${r.outcome}`);

/** A run port that records calls and concurrency, sleeping `ms` per action and failing where told. */
function fakePort(opts: { ms?: number; fail?: (a: Action) => unknown } = {}) {
  const log: string[] = [];
  let now = 0;
  const state = { log, maxConcurrent: 0 };
  const port: ApplyPorts = {
    async run(action) {
      log.push(`begin ${tag(action)}`);
      now += 1;
      state.maxConcurrent = Math.max(state.maxConcurrent, now);
      try {
        await sleep(opts.ms ?? 1);
        const err = opts.fail?.(action);
        if (err !== undefined) throw err;
      } finally {
        now -= 1;
        log.push(`end ${tag(action)}`);
      }
    },
  };
  return { port, state };
}

test("actions of one project run in order, one after the other", async () => {
  const { port, state } = fakePort();
  const plan = [act("p", "init"), act("p", "stop"), act("p", "pin"), act("p", "start")];
  const rs = await applyPlan(plan, port, { parallelism: 4 });
  assert.deepEqual(state.log, [
    "begin p init",
    "end p init",
    "begin p stop",
    "end p stop",
    "begin p pin",
    "end p pin",
    "begin p start",
    "end p start",
  ]);
  assert.deepEqual(outcomes(rs), ["p init ok", "p stop ok", "p pin ok", "p start ok"]);
  for (const r of rs) {
    assert.equal("error" in r, false, "a success carries no error key");
    assert.ok(Number.isFinite(r.ms), `without a clock given, ms is read on performance.now (${r.ms})`);
  }
});

test("each result's ms is its own action's duration on the given clock, replan included", async () => {
  // The clock is the test's: each action advances it by its cost, the replan by 1000 more.
  let clock = 5000;
  const cost: Record<string, number> = { "p clone": 7, "p start": 30, "q pin": 11, "q start": 0 };
  const port: ApplyPorts = {
    async run(action) {
      clock += cost[tag(action)]!;
      if (tag(action) === "q pin") throw new Error("no");
    },
    async replan(project) {
      clock += 1000;
      return [act(project, "start")];
    },
  };
  const plan = [act("p", "clone"), act("p", "start"), act("q", "pin"), act("q", "start")];
  const rs = await applyPlan(plan, port, { parallelism: 1, now: () => clock });
  assert.deepEqual(
    rs.map((r) => `${tag(r.action)} ${r.outcome} ${r.ms}`),
    ["p clone ok 1007", "p start ok 30", "q pin failed 11", "q start skipped 0"],
  );
});

test("results come back grouped by project in plan order, even when interleaved", async () => {
  const { port } = fakePort();
  const plan = [act("a", "stop"), act("b", "start"), act("a", "pin")];
  const rs = await applyPlan(plan, port, { parallelism: 2 });
  assert.deepEqual(outcomes(rs), ["a stop ok", "a pin ok", "b start ok"]);
});

test("at most `parallelism` projects run at once, and that many do", async () => {
  const plan = ["a", "b", "c", "d", "e"].flatMap((p) => [act(p, "pin"), act(p, "start")]);
  for (const parallelism of [1, 2, 3]) {
    const { port, state } = fakePort({ ms: 5 });
    const rs = await applyPlan(plan, port, { parallelism });
    assert.equal(state.maxConcurrent, parallelism, `parallelism ${parallelism}`);
    assert.equal(rs.filter((r) => r.outcome === "ok").length, 10);
  }
});

test("a nonsensical parallelism runs one at a time", async () => {
  for (const parallelism of [0, -3, Number.NaN]) {
    const { port, state } = fakePort();
    await applyPlan([act("a", "start"), act("b", "start")], port, { parallelism });
    assert.equal(state.maxConcurrent, 1);
  }
});

test("a failure skips the rest of that project only", async () => {
  const { port, state } = fakePort({ fail: (a) => (tag(a) === "b stop" ? new Error("tmux said no") : undefined) });
  const plan = [
    act("a", "pin"),
    act("a", "start"),
    act("b", "stop"),
    act("b", "pin"),
    act("b", "start"),
    act("c", "start"),
  ];
  const rs = await applyPlan(plan, port, { parallelism: 1 });
  assert.deepEqual(outcomes(rs), [
    "a pin ok",
    "a start ok",
    "b stop failed",
    "b pin skipped",
    "b start skipped",
    "c start ok",
  ]);
  assert.equal(rs[2]!.error, "tmux said no");
  assert.equal(rs[3]!.error, "skipped: an earlier action of b failed");
  assert.equal(rs[4]!.error, "skipped: an earlier action of b failed");
  assert.ok(!state.log.includes("begin b pin"), "a skipped action never reaches the port");
});

test("a thrown non-Error is reported as text", async () => {
  const { port } = fakePort({ fail: () => "exit 3" });
  const [r] = await applyPlan([act("a", "start")], port, { parallelism: 1 });
  assert.deepEqual([r!.outcome, r!.error], ["failed", "exit 3"]);
});

test("abort: nothing new starts, the running action finishes, the rest are skipped as interrupted", async () => {
  const ctl = new AbortController();
  const seen: AbortSignal[] = [];
  const log: string[] = [];
  const port: ApplyPorts = {
    async run(action, signal) {
      seen.push(signal);
      log.push(`begin ${tag(action)}`);
      if (tag(action) === "a stop") ctl.abort();
      await sleep(2);
      log.push(`end ${tag(action)}`);
    },
  };
  const plan = [act("a", "stop"), act("a", "pin"), act("b", "start")];
  const rs = await applyPlan(plan, port, { parallelism: 1, signal: ctl.signal });
  assert.deepEqual(log, ["begin a stop", "end a stop"]);
  assert.deepEqual(outcomes(rs), ["a stop ok", "a pin skipped", "b start skipped"]);
  assert.equal(rs[1]!.error, "skipped: interrupted");
  assert.equal(rs[2]!.error, "skipped: interrupted");
  assert.equal(seen[0], ctl.signal, "the port gets the caller's signal");
});

test("abort with projects in parallel awaits every running action", async () => {
  const ctl = new AbortController();
  let running = 0;
  const port: ApplyPorts = {
    async run(action) {
      running += 1;
      // a interrupts once b is under way; b is still running then and must be awaited
      await sleep(action.project === "b" ? 10 : 1);
      if (action.project === "a") ctl.abort();
      running -= 1;
    },
  };
  const plan = [act("a", "pin"), act("a", "start"), act("b", "pin"), act("b", "start"), act("c", "start")];
  const rs = await applyPlan(plan, port, { parallelism: 2, signal: ctl.signal });
  assert.equal(running, 0, "applyPlan returned only after the running actions ended");
  assert.deepEqual(outcomes(rs), ["a pin ok", "a start skipped", "b pin ok", "b start skipped", "c start skipped"]);
});

test("an already aborted signal runs nothing", async () => {
  const { port, state } = fakePort();
  const rs = await applyPlan([act("a", "start")], port, { parallelism: 1, signal: AbortSignal.abort() });
  assert.deepEqual(state.log, []);
  assert.deepEqual(outcomes(rs), ["a start skipped"]);
});

test("an onStart that aborts the signal skips that action and the rest, with the signal's reason", async () => {
  const { port, state } = fakePort();
  const ctl = new AbortController();
  const rs = await applyPlan([act("a", "pin"), act("a", "start"), act("b", "start")], port, {
    parallelism: 1,
    signal: ctl.signal,
    onStart: (a) => a.kind === "start" && ctl.abort("its start could not be recorded"),
  });
  assert.deepEqual(state.log, ["begin a pin", "end a pin"]);
  assert.deepEqual(outcomes(rs), ["a pin ok", "a start skipped", "b start skipped"]);
  assert.deepEqual(
    rs.map((r) => r.error),
    [undefined, "skipped: its start could not be recorded", "skipped: its start could not be recorded"],
  );
});

test("after a clone, the project's remaining actions are replaced by the replan, minus any clone", async () => {
  // Cloning or re-planning twice would loop forever in a broken executor; fail fast instead.
  let clones = 0;
  const { port, state } = fakePort({
    fail: (a) => (a.kind === "clone" && ++clones > 1 ? new Error("cloned twice") : undefined),
  });
  const asked: string[] = [];
  port.replan = async (project) => {
    asked.push(project);
    if (asked.length > 1) throw new Error("replanned twice");
    return [
      act(project, "clone"),
      act(project, "init"),
      { ...act(project, "stop"), session: "p-gone" },
      act(project, "pin"),
      act("other", "stop"),
      act(project, "start"),
    ];
  };
  const plan = [act("p", "clone"), act("p", "start"), act("q", "start")];
  const rs = await applyPlan(plan, port, { parallelism: 1 });
  assert.deepEqual(asked, ["p"]);
  assert.deepEqual(outcomes(rs), ["p clone ok", "p init ok", "p stop ok", "p pin ok", "p start ok", "q start ok"]);
  assert.deepEqual(rs[0]!.then, ["init", "stop orphan session p-gone", "pin", "start"], "the clone says what follows");
  assert.ok(
    rs.slice(1).every((r) => !("then" in r)),
    "only a clone says what follows",
  );
  assert.equal(state.log.filter((l) => l === "begin p clone").length, 1);
  assert.ok(!state.log.includes("begin other stop"), "a replan cannot smuggle in another project's actions");
});

test("a replan that finds nothing to do ends the project after the clone", async () => {
  const { port } = fakePort();
  port.replan = async () => [];
  const rs = await applyPlan([act("p", "clone"), act("p", "start")], port, { parallelism: 1 });
  assert.deepEqual(outcomes(rs), ["p clone ok"]);
});

test("without a replan port the planned actions after a clone run as planned", async () => {
  const { port } = fakePort();
  const rs = await applyPlan([act("p", "clone"), act("p", "start")], port, { parallelism: 1 });
  assert.deepEqual(outcomes(rs), ["p clone ok", "p start ok"]);
});

test("replan is only asked after a successful clone", async () => {
  const { port } = fakePort({ fail: (a) => (a.kind === "clone" ? new Error("no such repo") : undefined) });
  let asked = 0;
  port.replan = async () => {
    asked += 1;
    return [];
  };
  const rs = await applyPlan([act("p", "clone"), act("p", "start"), act("q", "pin")], port, { parallelism: 1 });
  assert.equal(asked, 0);
  assert.deepEqual(outcomes(rs), ["p clone failed", "p start skipped", "q pin ok"]);
});

test("a replan that throws fails the clone step and skips the rest of the project", async () => {
  const { port } = fakePort();
  port.replan = async () => {
    throw new Error("there is no submodule at engine");
  };
  const rs = await applyPlan([act("p", "clone"), act("p", "start")], port, { parallelism: 1 });
  assert.deepEqual(outcomes(rs), ["p clone failed", "p start skipped"]);
  assert.match(rs[0]!.error!, /cloned, but .*there is no submodule at engine/);
});

test("onStart and onEnd report every action as it happens", async () => {
  const { port } = fakePort({ fail: (a) => (a.kind === "stop" ? new Error("x") : undefined) });
  const events: string[] = [];
  const rs = await applyPlan([act("p", "stop"), act("p", "start")], port, {
    parallelism: 1,
    onStart: (a) => events.push(`start ${tag(a)}`),
    onEnd: (r) => events.push(`end ${tag(r.action)} ${r.outcome}`),
  });
  assert.deepEqual(events, ["start p stop", "end p stop failed", "end p start skipped"]);
  assert.equal(rs.length, 2);
});

test("an empty plan does nothing", async () => {
  const { port, state } = fakePort();
  assert.deepEqual(await applyPlan([], port, { parallelism: 3 }), []);
  assert.deepEqual(state.log, []);
});
