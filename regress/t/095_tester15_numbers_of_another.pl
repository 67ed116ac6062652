# tester15 (issue 15 §1): "a mapped role never sends from another
# portfolio's number: from_number, portfolio or mark_read naming one is
# refused".  Three other functions an app may call take a phone_number_id
# and act in that number's portfolio without that check:
#  - record_opt_in(recipient, B's number, ...) records consent in B's
#    portfolio: with antiban.require_marketing_opt_in, B's marketing to a
#    person who never opted in then goes (the issue's LGPD concern, reversed);
#  - set_person_time_zone(recipient, B's number, zone) moves B's quiet hours
#    for that person;
#  - try_consume(B's number, n) takes B's throughput tokens (A can hold B's
#    numbers at zero) and, with a recipient, reads B's pair bucket for a
#    person (whether B wrote to them lately).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_numbers', 'antiban.require_marketing_opt_in' => 'on');

my ($rc, $out, $err) = as_role($node, 'app_b',
	q{SELECT outcome, reason FROM antiban.decide('+5521987650001', 'marketing', consume => false)});
is($out, 'REJECT|no_opt_in', 'B may not market to a person who never opted in');

($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.record_opt_in('+5521987650001', '3001', 'form', 'form v1 (forged by A)')});
isnt($rc, 0, 'app_a may not record an opt-in on B\'s number');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.consent_events WHERE portfolio_id = 2}), '0',
	'no consent was recorded in B\'s portfolio');
($rc, $out, $err) = as_role($node, 'app_b',
	q{SELECT outcome, reason FROM antiban.decide('+5521987650001', 'marketing', consume => false)});
is($out, 'REJECT|no_opt_in', 'B still may not market to that person');

($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.set_person_time_zone('+5521987650001', '3001', 'Asia/Tokyo')});
isnt($rc, 0, 'app_a may not set the time zone of a person of B\'s portfolio');

my $granted = q{SELECT coalesce(sum(granted), 0) FROM antiban.buckets WHERE phone_number_id = '3001'};
my $before = $node->safe_psql('postgres', $granted);
($rc, $out, $err) = as_role($node, 'app_a', q{SELECT allowed FROM antiban.try_consume('3001', 1)});
isnt($rc, 0, 'app_a may not take tokens from B\'s number');
is($node->safe_psql('postgres', $granted), $before, 'B\'s number granted no token to A');
($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT pair_remaining FROM antiban.try_consume('3001', 1, '+5521987650001', consume => false)});
isnt($rc, 0, 'nor read B\'s pair bucket for a person');
done_testing();
