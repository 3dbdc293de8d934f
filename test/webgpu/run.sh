#!/usr/bin/env bash
# npm run test:webgpu. On a machine without a GPU the adapter is Mesa's software Vulkan driver,
# and there Deno sometimes aborts with "double free or corruption" (SIGABRT, exit 134) while
# the test process exits, after it has printed its summary: 2 of 11 runs in one session, 1 of
# 4 in another, with every test passed each time. That abort is in the adapter's teardown, not
# in anything under test, so a run that printed "ok | N passed | 0 failed" and then died of
# SIGABRT counts as passed, and says so. Any other failure, or an abort before the summary,
# fails as usual.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
NO_COLOR=1 deno test -A --no-check --unstable-webgpu --node-modules-dir=manual \
  test/webgpu/webgpu.deno.ts 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 134 ] && grep -qE '^ok \| [0-9]+ passed \| 0 failed' "$log"; then
  echo "test:webgpu: every test passed, then deno aborted while exiting (SIGABRT in the software" \
    "WebGPU adapter's teardown, see test/webgpu/run.sh): counted as passed" >&2
  rc=0
fi
exit "$rc"
