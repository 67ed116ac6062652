# tester13: (as 095, with antiban.webhook_apply = inline and inline lead scoring: each
# receiver call applies and scores its batch) POSTs from several clients at once, and a server crash in the
# middle (a receiver's backend killed with SIGKILL: the postmaster restarts
# everything, the receiver's connections die).  Each client posts until it
# gets a 200, as Meta retries.  Then: every body stored once, every event
# applied, every message at its furthest state, the updates credits equal
# to the rows moved, every inbound message recorded once.
use strict;
use warnings;
# (loaded here, at compile time: the framework's INIT block must run)
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;

# the scenario of 095, its inline variant
$ENV{T13_INLINE} = 1;
do "$FindBin::RealBin/095_tester13_receiver_crash.pl";
die $@ if $@;
