#!/usr/bin/env bash
# reaper.sh OWNER_PID STATE_FILE: the test bed's safety net. When the process that owns a stack
# dies without stopping it (a test run killed or interrupted), kill the stack's process groups and
# remove its folder. Exits quietly once the stack is stopped normally (its state file is gone).
owner=$1 state=$2
root=$(dirname "$state")
while kill -0 "$owner" 2>/dev/null; do
  [[ -f $state ]] || exit 0
  sleep 1
done
[[ -f $state ]] || exit 0
for pid in $(jq -r '.servers[].pid' "$state" 2>/dev/null); do kill -TERM -- "-$pid" 2>/dev/null; done
sleep 3
for pid in $(jq -r '.servers[].pid' "$state" 2>/dev/null); do kill -KILL -- "-$pid" 2>/dev/null; done
rm -rf "$root"
