// Unit tests of the rollout's pure decisions: wave sizes, waves, the next wave, release order, and
// the rollout policy built from the command line and [rollout].
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nextWave, parseWaveSize, splitWaves, type WavePolicy, type WaveProgress } from "../reconcile/waves.js";
import { compareTags, newestTag } from "../reconcile/semver.js";
import { rolloutPolicy } from "../src/cli/rollout-options.js";

const SIX = ["p1", "p2", "p3", "p4", "p5", "p6"];

describe("parseWaveSize", () => {
  const cases: [string, ReturnType<typeof parseWaveSize>][] = [
    ["2", { count: 2 }],
    ["25%", { percent: 25 }],
    ["100%", { percent: 100 }],
    ["101%", undefined],
    ["0", undefined],
    ["-1", undefined],
    ["1.5", undefined],
    ["two", undefined],
    ["", undefined],
    [" 3 ", { count: 3 }],
  ];
  for (const [text, want] of cases) it(`'${text}'`, () => assert.deepEqual(parseWaveSize(text), want));
});

describe("splitWaves", () => {
  const cases: { name: string; projects: string[]; policy: WavePolicy; want: string[][] }[] = [
    { name: "no policy: one wave", projects: SIX, policy: {}, want: [SIX] },
    {
      name: "waves of 2",
      projects: SIX,
      policy: { wave: { count: 2 } },
      want: [
        ["p1", "p2"],
        ["p3", "p4"],
        ["p5", "p6"],
      ],
    },
    {
      name: "waves of 4: the last is smaller",
      projects: SIX,
      policy: { wave: { count: 4 } },
      want: [SIX.slice(0, 4), SIX.slice(4)],
    },
    { name: "50%", projects: SIX, policy: { wave: { percent: 50 } }, want: [SIX.slice(0, 3), SIX.slice(3)] },
    {
      name: "10% of 6 rounds up to 1",
      projects: SIX.slice(0, 2),
      policy: { wave: { percent: 10 } },
      want: [["p1"], ["p2"]],
    },
    { name: "canary 1, the rest in one wave", projects: SIX, policy: { canary: 1 }, want: [["p1"], SIX.slice(1)] },
    {
      name: "canary 1 then waves of 3",
      projects: SIX,
      policy: { canary: 1, wave: { count: 3 } },
      want: [["p1"], ["p2", "p3", "p4"], ["p5", "p6"]],
    },
    { name: "canary larger than the fleet", projects: ["p1"], policy: { canary: 3 }, want: [["p1"]] },
    { name: "nothing to roll out", projects: [], policy: { canary: 1, wave: { count: 2 } }, want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(splitWaves(c.projects, c.policy), c.want));
});

describe("nextWave", () => {
  const base: WaveProgress = { failures: 0, next: 1, canary: false, yes: false };
  const cases: [string, Partial<WaveProgress>, ReturnType<typeof nextWave>][] = [
    ["no limit, no canary: start", {}, "start"],
    ["failures below the limit: start", { failures: 1, maxFailures: 2 }, "start"],
    ["failures at the limit: hold", { failures: 1, maxFailures: 1 }, "hold"],
    ["failures above the limit: hold", { failures: 3, maxFailures: 1 }, "hold"],
    ["after the canary: ask", { canary: true }, "ask"],
    ["after the canary with --yes: start", { canary: true, yes: true }, "start"],
    ["the canary itself starts", { canary: true, next: 0 }, "start"],
    ["after the canary, a failure at the limit: hold, not ask", { canary: true, failures: 1, maxFailures: 1 }, "hold"],
    ["the wave after the one after the canary: start", { canary: true, next: 2 }, "start"],
  ];
  for (const [name, p, want] of cases) it(name, () => assert.equal(nextWave({ ...base, ...p }), want));
});

describe("release order", () => {
  const cases: [string, string, number][] = [
    ["v0.1.0", "v0.2.0", -1],
    ["v0.10.0", "v0.9.0", 1],
    ["v1.0.0", "1.0.0", 0],
    ["v1.0.0-rc.1", "v1.0.0", -1],
    ["v1.0.0-rc.2", "v1.0.0-rc.10", -1],
    ["v1.0.0-alpha", "v1.0.0-beta", -1],
    ["v1.0.0-1", "v1.0.0-alpha", -1],
    ["v2.0.0+build.5", "v2.0.0", 0],
    ["v10.2.30", "v9.2.30", 1],
    ["v1.2.10", "v1.2.9", 1],
    // pre-release identifiers: numbers by value, below any other identifier, which compare in ASCII order
    ["v1.0.0-10", "v1.0.0-20", -1],
    ["v1.0.0-30", "v1.0.0-20", 1],
    ["v1.0.0-1", "v1.0.0--x", -1],
    ["v1.0.0-b1", "v1.0.0-a", 1],
    ["v1.0.0-a", "v1.0.0-b1", -1],
    ["v1.0.0-1b", "v1.0.0-1a", 1],
    ["v1.0.0-1a", "v1.0.0-1b", -1],
  ];
  for (const [a, b, sign] of cases) it(`${a} vs ${b}`, () => assert.equal(Math.sign(compareTags(a, b)!), sign));
  it("a tag that is not a release does not compare", () => assert.equal(compareTags("main", "v1.0.0"), undefined));
  it("newest skips pre-releases unless asked, and non-release tags", () => {
    const tags = ["v0.1.0", "v0.10.0", "v0.9.0", "v1.0.0-rc.1", "nightly", "v0.2.0"];
    assert.equal(newestTag(tags), "v0.10.0");
    assert.equal(newestTag(tags, true), "v1.0.0-rc.1");
    assert.equal(newestTag(["main", "latest"]), undefined);
  });
  it("of two tags naming one version, newest keeps the first", () => {
    assert.equal(newestTag(["v1.0.0", "1.0.0", "v1.0.0+build"]), "v1.0.0");
    assert.equal(newestTag(["1.0.0", "v1.0.0"]), "1.0.0");
  });
});

describe("rolloutPolicy", () => {
  it("none asked: undefined (apply behaves as without waves)", () => {
    assert.equal(rolloutPolicy("apply", {}), undefined);
    assert.equal(rolloutPolicy("apply", { "no-revert": true }), undefined);
  });
  it("the command line wins over [rollout]", () => {
    assert.deepEqual(rolloutPolicy("apply", { wave: "3", settle: "0" }, { wave: "50%", settleS: 9, maxFailures: 2 }), {
      wave: { count: 3 },
      canary: undefined,
      settleS: 0,
      maxFailures: 2,
      revert: true,
    });
  });
  it("[rollout] alone asks for waves; revert = false and --no-revert turn revert off", () => {
    assert.deepEqual(rolloutPolicy("apply", {}, { wave: 2, revert: false }), {
      wave: { count: 2 },
      canary: undefined,
      settleS: 0,
      maxFailures: undefined,
      revert: false,
    });
    assert.equal(rolloutPolicy("apply", { "no-revert": true, canary: "1" })?.revert, false);
  });
  it("refuses a bad value in one line naming the option", () => {
    assert.throws(
      () => rolloutPolicy("update", { wave: "0" }),
      /^Error: update: --wave takes a number of projects or a percentage \(N or P%\), not '0'$/,
    );
    assert.throws(
      () => rolloutPolicy("apply", { settle: "soon" }),
      /apply: --settle must be a whole number of 0 or more, not 'soon'/,
    );
    assert.throws(
      () => rolloutPolicy("apply", { "max-failures": "0" }),
      /--max-failures must be a whole number of 1 or more/,
    );
  });
});
