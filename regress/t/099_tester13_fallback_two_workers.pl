# tester13: as 090, but some calls also carry a status apply_statuses
# cannot take (a failure whose error code is not a number), so the batches
# that hold one fall back to event-by-event apply, which locks messages in
# posting order, not id order, while the other worker's batches lock in id
# order: deadlocks must be resolved by the retries, nothing left pending.
# (090's header says what the scenario does and checks.)
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
