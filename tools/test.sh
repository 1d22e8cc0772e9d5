#!/usr/bin/env bash
# The test command (README): unit and fixture tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test 2>&1 | tee /tmp/mangacolor-swift-test.log | grep -vE '^\[[0-9]+/[0-9]+\]|Test Case .* (started|passed)|◇ Test .* started' || true
grep -qE '(Test run with [0-9]+ tests? .*passed|Executed [0-9]+ tests?, with 0 failures)' /tmp/mangacolor-swift-test.log \
  && ! grep -qE 'Test run with .* (failed|issues?)|with [1-9][0-9]* failures?' /tmp/mangacolor-swift-test.log
