#!/bin/sh
# Makes the machine busy, to check that the test suite does not depend on an idle CPU:
# starts N processes that each burn one core, runs the command (if any), and stops the burners
# when the command ends or the script is interrupted. Exits with the command's exit code.
#
#   scripts/busy.sh N [command ...]     e.g. scripts/busy.sh 4 pnpm test
#   scripts/busy.sh N                   burns until Ctrl-C
#
# The burners run at normal priority (nice 0), as a browser or a compiler on a laptop would.
set -u

usage() {
  echo "usage: $0 N [command ...]   (N: how many CPU-burning processes, 1 to 64)" >&2
  exit 2
}
[ "$#" -ge 1 ] || usage
N=$1
shift
case "$N" in '' | *[!0-9]*) usage ;; esac
[ "$N" -ge 1 ] && [ "$N" -le 64 ] || usage

PIDS=
stop() {
  for pid in $PIDS; do kill "$pid" 2>/dev/null; done
  for pid in $PIDS; do wait "$pid" 2>/dev/null; done
  PIDS=
}
trap 'stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

i=0
while [ "$i" -lt "$N" ]; do
  node -e 'for (;;) {}' &
  PIDS="$PIDS $!"
  i=$((i + 1))
done
echo "busy.sh: $N CPU burners running (pids:$PIDS) on $(nproc 2>/dev/null || echo '?') cores" >&2

if [ "$#" -eq 0 ]; then
  while :; do sleep 3600 & wait $!; done
fi
"$@"
status=$?
exit "$status"
