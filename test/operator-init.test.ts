// Installing po as a user would (npm pack, npm install -g of the tarball into a temporary prefix)
// and starting a fleet repository with po init; git is the oracle for the repository it makes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, makeWorld, type World } from "./support/world.js";

/** The repository root: the CLI is dist/src/cli/main.js below it. */
const ROOT = resolve(CLI, "../../../..");

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("po init", () => {
  let w: World;
  before(() => (w = makeWorld("po-init-")));
  after(() => w?.cleanup());

  it("scaffolds a fleet repository that validates, git-inits it, and refuses to overwrite", () => {
    const dir = join(w.root, "fleet-repo");
    const r = w.po(["init", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(w.git(dir, "rev-parse", "--show-toplevel").trim(), realpathSync(dir));
    const files = w.git(dir, "ls-files", "--others", "--exclude-standard").trim().split("\n").sort();
    assert.deepEqual(files, [
      ".forgejo/workflows/validate-fleet.yml",
      ".gitignore",
      "agents.toml",
      "fleet.toml",
      "prompts/orchestrator.md",
    ]);
    assert.equal(readFileSync(join(dir, ".gitignore"), "utf8"), ".ao-state/\n");
    const fleet = readFileSync(join(dir, "fleet.toml"), "utf8");
    assert.equal(fleet.split("\n")[0], `#:schema ${join(ROOT, "schema", "fleet.schema.json")}`);
    assert.match(fleet, /^version = 1$/m);
    assert.match(fleet, /^# \[projects\.my-project\]$/m);
    const agents = readFileSync(join(dir, "agents.toml"), "utf8").split("\n");
    const ours = readFileSync(join(ROOT, "agents.toml"), "utf8").split("\n");
    assert.equal(agents[0], `#:schema ${join(ROOT, "schema", "agents.schema.json")}`);
    assert.deepEqual(agents.slice(1), ours.slice(1));
    assert.equal(
      readFileSync(join(dir, "prompts", "orchestrator.md"), "utf8"),
      readFileSync(join(ROOT, "prompts", "orchestrator.md"), "utf8"),
    );
    assert.match(readFileSync(join(dir, ".forgejo/workflows/validate-fleet.yml"), "utf8"), /po validate fleet\.toml/);
    const valid = w.po(["validate", "fleet.toml", "agents.toml"], { cwd: dir });
    assert.equal(valid.code, 0, valid.stderr);
    const again = w.po(["init", dir]);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `po: init: ${join(dir, "fleet.toml")} exists; po init writes only into a new fleet repository\n`,
    );
    assert.equal(readFileSync(join(dir, "fleet.toml"), "utf8"), fleet);
  });

  it("inside an existing repository adds to it without git init, keeping its .gitignore", () => {
    const repo = join(w.root, "existing");
    mkdirSync(repo);
    w.git(repo, "init", "-q");
    writeFileSync(join(repo, ".gitignore"), "node_modules/");
    const r = w.po(["init", join(repo, "fleet")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(repo, "fleet", ".git")), false);
    assert.equal(readFileSync(join(repo, "fleet", ".gitignore"), "utf8"), ".ao-state/\n");
    const top = w.po(["init", "--json"], { cwd: repo });
    assert.equal(top.code, 0, top.stderr);
    assert.equal(readFileSync(join(repo, ".gitignore"), "utf8"), "node_modules/\n.ao-state/\n");
  });
});

describe("npm pack, then npm install -g of the tarball", () => {
  let w: World;
  before(() => (w = makeWorld("po-install-")));
  after(() => w?.cleanup());

  it("gives a working po in the prefix's bin that inits a fleet which validates", () => {
    // The package's files as they are built now; --ignore-scripts: the build is not run again.
    const env = { ...w.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
    const pack = run("npm", ["pack", "--ignore-scripts", "--pack-destination", w.root], ROOT, env);
    assert.equal(pack.code, 0, pack.out);
    const tgz = readdirSync(w.root).filter((f) => /^project-orchestrator-.*\.tgz$/.test(f));
    assert.equal(tgz.length, 1, `npm pack made ${readdirSync(w.root).join(", ")}`);
    const prefix = join(w.root, "prefix");
    const install = run(
      "npm",
      ["install", "-g", "--prefix", prefix, "--prefer-offline", join(w.root, tgz[0])],
      w.root,
      env,
    );
    assert.equal(install.code, 0, install.out);
    const po = join(prefix, "bin", "po");
    const fleet = join(w.root, "new-fleet");
    const init = run(po, ["init", fleet], w.root, env);
    assert.equal(init.code, 0, init.out);
    const validate = run(po, ["validate"], fleet, env);
    assert.equal(validate.code, 0, validate.out);
    assert.equal(validate.out, "fleet.toml: valid fleet file\n");
    const installed = join(prefix, "lib", "node_modules", "project-orchestrator");
    assert.equal(
      readFileSync(join(fleet, "fleet.toml"), "utf8").split("\n")[0],
      `#:schema ${installed}/schema/fleet.schema.json`,
    );
    assert.equal(existsSync(join(installed, "dist", "test")), false, "the tests are not shipped");
  });
});
