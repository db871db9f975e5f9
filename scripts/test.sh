#!/usr/bin/env bash
# Runs every test the way CI does: installs pnpm (the exact pinned version) and the real
# peers the interop tests talk to (casync, sshd, fuse3: with apt-get when root), builds,
# typechecks, lints, runs vitest over every package, and ends with "N passed, N failed".
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

step "tests"
results=$(mktemp --suffix=.json)
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
status=$?
node scripts/test-summary.mjs "$results"
summary_printed=1
rm -f "$results"
exit "$status"
