# Consent follows transactions and survives a restart: an opt-in or opt-out
# rolled back never applies, a committed one holds after the server
# restarts (as does a stop that ended an opt-in), and the frequency cap
# still counts the marketing sent before the restart (rebuilt from the
# outbox).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $sim = start_simulator('--token', 'EAAG-consent-token');
sim_post($sim, '/_sim/config', {
	numbers => { '1001' => { throughput => 1000, portfolio => 'p1', waba => '200' } },
	portfolios => { p1 => { limit => 'unlimited' } } });

my $node = antiban_node('consent', 'antiban.graph_base_url' => $sim->{url},
	'antiban.sender_workers' => 1,
	'antiban.require_marketing_opt_in' => 'on',
	'antiban.frequency_caps' => 'marketing=2/7d');
register_numbers($node, '1001' => { throughput_level => "'HIGH'" });
$node->safe_psql('postgres', q{
	UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
	SELECT antiban.set_secret('access_token', 'EAAG-consent-token', '200');});

sub marketing
{
	my ($who) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT outcome || ' ' || reason FROM antiban.decide('$who', 'marketing', consume => false)});
}

sub state_of
{
	my ($who) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT state FROM antiban.consent WHERE person_id = antiban.person_id(1, '$who')});
}

my $opt_in = q{SELECT antiban.record_opt_in('%s', '1001', 'form', 'https://example.com/signup v7')};

# A: an opt-in rolled back never happened; committed, marketing goes
$node->safe_psql('postgres', 'BEGIN; ' . sprintf($opt_in, '+5511911130001') . '; ROLLBACK;');
is(marketing('+5511911130001'), 'REJECT no_opt_in', 'an opt-in rolled back does not apply');
is(state_of('+5511911130001'), '', 'and the registry has no state for the person');
$node->safe_psql('postgres', sprintf($opt_in, '+5511911130001'));
is(marketing('+5511911130001'), 'SEND healthiest', 'a committed opt-in applies');

# B: opted in; a stop rolled back changes nothing, a committed one does
$node->safe_psql('postgres', sprintf($opt_in, '+5511911130002'));
$node->safe_psql('postgres', q{BEGIN; SELECT antiban.set_marketing_opt_out('+5511911130002', '1001', true); ROLLBACK;});
is(marketing('+5511911130002'), 'SEND healthiest', 'a stop rolled back does not apply');
$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511911130002', '1001', true)});
is(marketing('+5511911130002'), 'REJECT opted_out', 'a committed stop applies');

# C: opted in, stopped, resumed: the stop ended the opt-in
$node->safe_psql('postgres', sprintf($opt_in, '+5511911130003'));
$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511911130003', '1001', true)});
$node->safe_psql('postgres', q{SELECT antiban.set_marketing_opt_out('+5511911130003', '1001', false)});
is(marketing('+5511911130003'), 'REJECT no_opt_in', 'a resume after a stop is not an opt-in');

# A gets two marketing templates (the cap), sent for real; a third waits a week
$node->safe_psql('postgres', q{
	SELECT antiban.send_template('+5511911130001', 'oferta', 'pt_BR'),
	       antiban.send_template('+5511911130001', 'oferta', 'pt_BR')});
ok(wait_for($node, q{SELECT count(*) = 2 FROM antiban.outbox WHERE state = 'sent'}, 120),
	'the two marketing templates were sent')
  or diag($node->safe_psql('postgres', 'SELECT state, reason, detail FROM antiban.outbox'));
is(marketing('+5511911130001'), 'QUEUE frequency_cap', 'a third is held by the frequency cap');

# A lives in Tokyo, whatever their Brazilian number says (quiet hours follow it)
$node->safe_psql('postgres', q{SELECT antiban.set_person_time_zone('+5511911130001', '1001', 'Asia/Tokyo')});

$node->restart;

is(marketing('+5511911130001'), 'QUEUE frequency_cap',
	'after a restart the cap still counts the two sends (rebuilt from the outbox)');
is($node->safe_psql('postgres', q{
	SELECT not_before BETWEEN now() + interval '6 days 23 hours' AND now() + interval '7 days'
	FROM antiban.decide('+5511911130001', 'marketing', consume => false)}), 't',
	'and holds until a week after the first send');
# (the pair rate may still hold it a few seconds: only the consent and the cap matter here)
is($node->safe_psql('postgres', q{
	SELECT reason NOT IN ('no_opt_in', 'frequency_cap')
	FROM antiban.decide('+5511911130001', 'marketing', consume => false, frequency_caps => 'marketing=3/7d')}),
	't', 'the opt-in survived the restart (a campaign allowing three may send)');
# quiet all day but the last minute of Tokyo's: held until 23:59 there (that minute itself proves nothing)
is($node->safe_psql('postgres', q{
	SET antiban.quiet_hours = '00:00-23:59';
	SELECT CASE WHEN to_char(antiban.now() AT TIME ZONE 'Asia/Tokyo', 'HH24:MI') = '23:59' THEN true
	            ELSE reason = 'quiet_hours' AND to_char(not_before AT TIME ZONE 'Asia/Tokyo', 'HH24:MI') = '23:59' END
	FROM antiban.decide('+5511911130001', 'marketing', consume => false, frequency_caps => 'marketing=3/7d')}),
	't', 'the person\'s own time zone survived the restart');
is(marketing('+5511911130002'), 'REJECT opted_out', 'the committed stop survived the restart');
is(marketing('+5511911130003'), 'REJECT no_opt_in', 'the stop that ended an opt-in survived the restart');
is(marketing('+5511911130004'), 'REJECT no_opt_in', 'nobody else has an opt-in');
is(join(',', map { state_of($_) } qw(+5511911130001 +5511911130002 +5511911130003)),
	'opted_in,opted_out,resumed', 'the registry says what decide() applies');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.consent_events}), '6',
	'the history holds the six committed statements, not the rolled-back ones');

$node->stop;
stop_simulator($sim);
done_testing();
