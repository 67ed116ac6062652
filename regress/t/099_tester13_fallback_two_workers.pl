# tester13: as 090, but some calls also carry a status apply_statuses
# cannot take (a failure whose error code is not a number), so the batches
# that hold one fall back to event-by-event apply, which locks messages in
# posting order, not id order, while the other worker's batches lock in id
# order: deadlocks must be resolved by the retries, nothing left pending.
# Two webhook apply workers (antiban.webhook_apply = worker) under
# concurrent ingest.  Several sessions post at once: each message's
# delivered and read in different calls (so in different batches, maybe of
# different workers), Meta's retries (the same bytes) and repeats (the same
# status again), inbound messages of the same persons from every session;
# a worker is killed with SIGKILL while its batch waits for a lock.  Then:
# every event applied once, every message at its furthest state, the
# events' updates credits add up to the rows moved (a trigger logs each
# move), every inbound message recorded once and counted once by its lead,
# nothing left pending or queued.
use strict;
use warnings;
# (loaded here, at compile time: the framework's INIT block must run)
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;

# the scenario of 090, with the fallback's bad statuses
$ENV{T13_FALLBACK} = 1;
do "$FindBin::RealBin/090_tester13_two_apply_workers.pl";
die $@ if $@;
