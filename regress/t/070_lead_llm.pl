# The LLM step's worker against a local mock endpoint (regress/llm_mock.pl):
# off by default (it idles, notes nothing, calls nothing); switched on by a
# reload; then one lead per scripted answer: a good answer becomes features
# and reasons in words, a slow one is a timeout, broken JSON, a foreign
# schema, a 500 and a made-up quote are refused and recorded, and past the
# daily budget no call is made.  The key reaches the endpoint and nothing
# else: not the calls table, not the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $key = 'sk-mock-5f1c0ffee5f1c0ffee';
my $dir = tempdir(CLEANUP => 1);
my ($port_file, $log_file) = ("$dir/port", "$dir/requests.log");
my $mock_pid = fork();
die "fork: $!" unless defined $mock_pid;
if ($mock_pid == 0)
{
	exec($^X, "$FindBin::RealBin/../llm_mock.pl", $port_file, $log_file, $key) or die "exec: $!";
}
# a test that dies must not leave the mock holding prove's output open
END { kill 'KILL', $mock_pid if $mock_pid; }
for (1 .. 100) { last if -s $port_file; select(undef, undef, undef, 0.1); }
open(my $pf, '<', $port_file) or die "the mock did not start: $!";
chomp(my $port = <$pf>);
close $pf;

sub requests
{
	return () unless -e $log_file;
	open(my $f, '<', $log_file) or die "$log_file: $!";
	my @r = map { decode_json($_) } <$f>;
	close $f;
	return @r;
}

# (the timeout bounds every answer, the good ones too: 5 s, long enough for
# the mock's forked answer on a loaded machine; its slow mode takes 15 s)
my $node = antiban_node('lead_llm', 'antiban.sender_workers' => 0,
	'antiban.lead_llm_poll_interval' => '100ms', 'antiban.lead_llm_timeout' => '5s',
	'antiban.lead_llm_daily_budget' => 6);
register_numbers($node, '1001' => {});

# A lead (person, contact, lead) and its inbound text messages; returns the lead id.
my $leads = 0;
sub lead_with
{
	my (@texts) = @_;
	$leads++;
	my $values = join(', ', map {
		my $t = $texts[$_] =~ s/'/''/gr;
		"(currval('antiban.contacts_id_seq'), 'in', 'wamid.$leads.$_', 'text', '$t', '{}', now())"
	} 0 .. $#texts);
	return $node->safe_psql('postgres', qq{
		INSERT INTO antiban.persons (portfolio_id, anchor) VALUES (1, '+55119999900$leads');
		INSERT INTO antiban.contacts (portfolio_id, person_id, wa_id)
		VALUES (1, currval('antiban.persons_id_seq'), '55119999900$leads');
		INSERT INTO antiban.leads (portfolio_id, person_id) VALUES (1, currval('antiban.persons_id_seq'));
		INSERT INTO antiban.interactions (contact_id, direction, wamid, message_type, body, payload, occurred_at)
		VALUES $values;
		SELECT currval('antiban.leads_id_seq');});
}

sub outcome_of
{
	my ($lead) = @_;
	ok(wait_for($node, "SELECT count(*) > 0 FROM antiban.lead_llm_calls WHERE conversation_id = $lead AND outcome IS NOT NULL", 60),
		"lead $lead: the worker recorded a call");
	return $node->safe_psql('postgres',
		"SELECT outcome FROM antiban.lead_llm_calls WHERE conversation_id = $lead AND outcome IS NOT NULL ORDER BY id LIMIT 1");
}

$node->safe_psql('postgres', "SELECT antiban.set_secret('llm_api_key', '$key')");

# ---- off by default: the worker idles, nothing is noted or called ----
my $first = lead_with('Quero aplicar 50 mil num CDB', 'Mas só daqui a 2 anos, vou pensar');
ok(wait_for($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'antiban leads' AND query LIKE 'off:%'}, 60), 'the worker runs and says it is off');
is($node->safe_psql('postgres', 'SELECT count(*) FROM antiban.lead_llm_state'), '0', 'no URL: nothing noted');

# ---- switched on by a reload ----
$node->safe_psql('postgres', qq{
	ALTER SYSTEM SET antiban.lead_llm_url = 'http://127.0.0.1:$port/v1/chat/completions';
	ALTER SYSTEM SET antiban.lead_llm_model = 'mock-model';
	SELECT pg_reload_conf();});
ok(wait_for($node, 'SELECT antiban.lead_llm_enabled()', 30), 'the reload turned the step on');
# the lead that wrote while it was off is read when asked for
$node->safe_psql('postgres', "SELECT antiban.request_lead_llm($first)");
is(outcome_of($first), 'ok', 'a good answer is accepted');
my @r = requests();
is(scalar @r, 1, 'one request reached the endpoint');
is_deeply([ @{ $r[0] }{qw(model format strict key_ok)} ], [ 'mock-model', 'json_schema', 1, 1 ],
	'it named the model, asked for the strict JSON schema and carried the key');
is_deeply($r[0]{schema_keys}, [qw(amount horizon objections product)], 'the schema has the four slots');
is(scalar @{ $r[0]{message_ids} }, 2, 'it showed both messages with their ids');
is($node->safe_psql('postgres', qq{SELECT features \@> '{1,42,51,63}' FROM antiban.lead_features
	WHERE conversation_id = $first}), 't', 'amount, horizon, product and objection became features');
my $reasons = $node->safe_psql('postgres', qq{SELECT string_agg(r, ' | ' ORDER BY r)
	FROM antiban.lead_scores, jsonb_array_elements_text(reasons -> 'positive') r
	WHERE conversation_id = $first AND r LIKE '%LLM:%'});
like($reasons, qr/\+\d+ LLM: valor R\$ 50 mil \(“50 mil”\)/,
	'a reason says the amount with the lead\'s words');
is($node->safe_psql('postgres', qq{SELECT latency_ms IS NOT NULL AND prompt_tokens = 100 AND completion_tokens = 20
	AND http_status = 200 FROM antiban.lead_llm_calls WHERE conversation_id = $first}), 't',
	'the call is recorded with latency, status and tokens');

# ---- each scripted failure, recorded; new messages are noted by themselves now ----
my %expected = (slow => 'timeout', invalid_json => 'invalid_json', schema_mismatch => 'schema_mismatch',
	http_500 => 'http_error', bad_evidence => 'bad_evidence');
my %lead_of;
for my $mode (qw(slow invalid_json schema_mismatch http_500 bad_evidence))
{
	$lead_of{$mode} = lead_with("Oi, quero 50 mil em CDB mock:$mode");
	is(outcome_of($lead_of{$mode}), $expected{$mode}, "$mode: recorded as $expected{$mode}");
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.lead_features f
	JOIN antiban.lead_llm_calls c USING (conversation_id) WHERE c.outcome <> 'ok'}), '0',
	'no refused or failed answer added a feature');
like($node->safe_psql('postgres', "SELECT detail FROM antiban.lead_llm_calls WHERE conversation_id = $lead_of{bad_evidence}"),
	qr/quote is not in the message/, 'the made-up quote is named as the reason');
is($node->safe_psql('postgres', qq{SELECT attempts = 1 AND next_try_at > now() FROM antiban.lead_llm_state
	WHERE conversation_id = $lead_of{slow}}), 't', 'the timeout will be tried again later');
# (later than this test: its retry must not take the budget the next lead is refused by)
$node->safe_psql('postgres', "UPDATE antiban.lead_llm_state SET next_try_at = now() + interval '1 day'
	WHERE conversation_id = $lead_of{slow}");

# ---- over budget: six calls made today, the seventh is not made ----
my $over = lead_with('Tenho 80 mil para investir');
is(outcome_of($over), 'over_budget', 'past the daily budget the call is refused');
is(scalar(my @all = requests()), 6, 'and never reached the endpoint');
is($node->safe_psql('postgres', q{SELECT calls || '/' || over_budget FROM antiban.lead_llm_usage}), '6/1',
	'usage counts six calls and one refusal');
my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$key\E/, 'the server log never holds the key');

# ---- the key went to the endpoint only ----
# (the key spelt in hex, so that this statement does not log it)
my $hex = unpack('H*', $key);
is($node->safe_psql('postgres', qq{SELECT count(*) FROM antiban.lead_llm_calls c, antiban.lead_llm_state s
	WHERE position(convert_from(decode('$hex', 'hex'), 'UTF8') IN c::text || s::text) > 0}),
	'0', 'neither the calls nor the state hold the key');

$node->stop;
done_testing();
