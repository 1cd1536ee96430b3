#!/usr/bin/env bash
# The whole suite (SQLite) again with the clock of the machine set to awkward instants, so no
# test depends on the day or hour it runs. libfaketime (Debian's `faketime`) moves the clock
# of the test process and the servers it starts; the clock then runs on from there.
#   2027-10-31 23:30 UTC, on a machine whose time zone is UTC as CI's and most servers' are:
#   in Rome it is already 00:30 on Monday 1 November (a new month, and All Saints' Day),
#   the night after summer time ended. Whatever takes the machine's day for Italy's
#   (the running month, "today", a check-in's day) is caught here: CI failed twice on such
#   tests when it happened to run after 23:00 UTC.
# Other instants can be given as arguments ("YYYY-MM-DD HH:MM:SS", in the zone TZ, default UTC).
# The OpenAPI fuzzer (marked `fuzz`), which reads no clock, runs in the other passes only.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }
  else
    echo "These runs need libfaketime: sudo apt-get install faketime" >&2
    exit 1
  fi
fi
# Tests marked `serial` measure real time across processes and sockets (latency bounds, a
# delivery deadline, a kill that must land mid-run, a scheduler stopped before its next tick),
# which libfaketime's moved clocks distort; they read no date and run in the two other passes.
instants=("$@")
[ ${#instants[@]} -gt 0 ] || instants=("2027-10-31 23:30:00")
for instant in "${instants[@]}"; do
  echo "== test suite on SQLite with the clock at $instant (${TZ:-UTC})"
  # The clock starts at the instant and runs on at its real pace (monotonic clocks included:
  # libfaketime's sleeps fail with EINVAL when only the wall clock is moved).
  # The browser journeys (2.5 minutes) run in the SQLite and PostgreSQL passes; here they are
  # left out to keep CI under its 30 minutes: the dates they show come from the API, whose
  # tests all run at the moved clock.
  TZ="${TZ:-UTC}" REGISTRY_DATABASE_URL= \
    faketime "$instant" .venv/bin/python -m pytest -q -p no:cacheprovider \
      -n "${TEST_WORKERS:-2}" -m "not fuzz and not serial" --ignore=tests/e2e
done
