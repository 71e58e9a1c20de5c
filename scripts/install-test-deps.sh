#!/bin/sh
# Installs the system programs that `pnpm test` uses besides Node and pnpm, from Debian's packages
# (Debian, Ubuntu and other apt systems). Idempotent: what is already there is left alone, and apt
# is not touched at all when nothing is missing. CI (.ci/run) runs it before the tests.
#
#   scripts/install-test-deps.sh            # as root, or through sudo when it is installed
#
# What each one is for (a test that needs a missing one is skipped, with a warning naming this script):
#   nginx   the round-robin load balancer in front of two replicas (test/scale/replicas.test.ts, sharedState.test.ts)
#   pg_ctl  a throwaway PostgreSQL server per suite: the state store's second engine (test/state, test/e2e/state.test.ts)
#   chromium  a real browser (headless, driven by playwright-core) fills in the connector's consent page (test/connector/browser.test.ts)
set -eu

# One "program package" pair per line: the program the tests look for, and the Debian package
# that brings it. Add new test dependencies here.
NEEDS='
nginx nginx
pg_ctl postgresql-15
chromium chromium
'

# has PROGRAM: on PATH, or in the sbin folders that a non-root PATH often lacks.
has() {
  command -v "$1" >/dev/null 2>&1 && return 0
  for dir in /usr/sbin /usr/local/sbin /sbin /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/$1" ]; then return 0; fi
  done
  return 1
}

missing=
for program_package in $(printf '%s' "$NEEDS" | tr ' ' ':'); do
  program=${program_package%%:*}
  package=${program_package#*:}
  if has "$program"; then echo "install-test-deps: $program is there"; else missing="$missing $package"; fi
done
if [ -z "$missing" ]; then exit 0; fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get here; install these with your package manager:$missing" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1; then
  as_root=sudo
else
  echo "install-test-deps: run as root (or install sudo) to install:$missing" >&2
  exit 1
fi

echo "install-test-deps: installing$missing (Debian packages)"
$as_root apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
for program_package in $(printf '%s' "$NEEDS" | tr ' ' ':'); do
  program=${program_package%%:*}
  has "$program" || { echo "install-test-deps: $program is still missing after the install" >&2; exit 1; }
done
echo "install-test-deps: done"
