#!/bin/sh
# ctest mpconform.plugin.boost_interprocess.no_leak: the Boost.Interprocess plugin leaves nothing
# behind, even when the harness is SIGKILLed in the middle of a run: no message queue name in
# /dev/shm (each is removed right after it is created) and no process of the run.
# Usage: boost_no_leak.sh MPCONFORM PLUGIN
set -u
mpconform=$1
plugin=$2
leftover_names() { ls /dev/shm | grep '^mpconform-boost-' || true; }

# A normal run: nothing left.
"$mpconform" run --backend "$plugin" --property queue --property joinable --scenarios 5 --seed 3 >/dev/null || {
  echo "FAIL: the normal run failed"; exit 1; }
names=$(leftover_names)
[ -z "$names" ] || { echo "FAIL: left in /dev/shm after a normal run: $names"; exit 1; }

# Runs SIGKILLed at different moments.
for delay in 0.3 0.7 1.1; do
  "$mpconform" run --backend "$plugin" --property queue --property joinable --seconds 30 --seed 424242 >/dev/null 2>&1 &
  harness=$!
  sleep "$delay"
  kill -KILL "$harness"
  wait "$harness" 2>/dev/null
done
sleep 1
names=$(leftover_names)
[ -z "$names" ] || { echo "FAIL: left in /dev/shm after SIGKILLed runs: $names"; exit 1; }
# The scenario processes are forks of the harness (same command line).
procs=$(ps -eo pid=,args= | grep -F -- "--seconds 30 --seed 424242" | grep -F -- "$plugin" | grep -v grep || true)
[ -z "$procs" ] || { echo "FAIL: processes of the SIGKILLed runs still alive:"; echo "$procs"; exit 1; }
echo "ok: nothing in /dev/shm, no process left"
