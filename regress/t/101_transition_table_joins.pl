# The outbox's statement triggers read its transition tables (old_rows,
# new_rows) with plans made once per session, generic: made while a
# statement changed one row, a join of the two tables was a nested loop,
# n² row comparisons for n rows.  A sender records 256 answers in one
# UPDATE, the webhook apply a batch of statuses: 65,280 rows compared and
# 22 ms for 256 (86 µs of the sender's 116 µs per message).  Here a session
# changes one row, then 300 at once, as the sender and as the webhook apply,
# with every nested statement's plan logged (auto_explain, analyze), and the
# same for a batch of inbound messages: no plan node may throw away more than
# a few rows per row changed (three event kinds are looked at per row; the
# n² join threw away n - 1).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $rows = 300;
my $node = antiban_node('transition_joins',
	'shared_preload_libraries' => 'antiban, auto_explain',
	'antiban.sender_workers' => 0,
	'antiban.webhook_apply_workers' => 1,
	'auto_explain.log_min_duration' => 0,
	'auto_explain.log_nested_statements' => 'on',
	'auto_explain.log_analyze' => 'on',
	'auto_explain.log_timing' => 'off',
	'log_line_prefix' => '%a|');
register_numbers($node, '1001' => {});
# messages in flight, as a claim leaves them (leased, not sent yet)
$node->safe_psql('postgres', qq{
	SELECT count(antiban.send_template('+55119877' || lpad(i::text, 5, '0'), 'oferta', 'pt_BR', NULL, 'utility'))
	FROM generate_series(1, 2 * $rows + 2) i;
	UPDATE antiban.outbox SET state = 'sending', number_id = 1, phone_number_id = '1001',
	       lease_until = now() + interval '1 hour';});

# The most rows one plan node read and threw away (Rows Removed by Filter or
# by Join Filter, times its loops: EXPLAIN shows the average per loop)
# among the plans session APP logged since OFFSET, that node's line, and how
# many plans the session logged.  A join of two sets made one row at a time,
# or an index probe that filters a whole table per row, shows here.
sub wasted_rows
{
	my ($app, $offset) = @_;
	my $log = substr(slurp_file($node->logfile), $offset);
	my ($current, $plans, $worst, $where, $node_line, $loops) = ('', 0, 0, '', '', 1);
	for my $line (split /\n/, $log)
	{
		if ($line =~ /^([^|]*)\|\w+:\s+(.*)/)
		{
			$current = $1;
			$plans++ if $current eq $app && $2 =~ /^duration: .* plan:/;
			next;
		}
		next unless $current eq $app;
		($node_line, $loops) = ($line, $1) if $line =~ /\(actual rows=\d+ loops=(\d+)\)/;
		if ($line =~ /Rows Removed by (?:Join )?Filter: (\d+)/ && $1 * $loops > $worst)
		{
			($worst, $where) = ($1 * $loops, $node_line);
		}
	}
	$where =~ s/^\s+//;
	return ($plans, $worst, $where);
}

# As the sender records answers: one, then a batch, in one session (its plans kept).
my $record = q{UPDATE antiban.outbox SET state = 'sent', sent_at = now(), wamid = 'wamid.TJ' || id
	WHERE id IN (SELECT id FROM antiban.outbox WHERE state = 'sending' AND wamid IS NULL ORDER BY id LIMIT %d);};
my $offset = -s $node->logfile;
$node->safe_psql('postgres', sprintf($record, 1) . sprintf($record, $rows),
	connstr => $node->connstr('postgres') . ' application_name=tjsender');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'sent'}), $rows + 1,
	'one message, then a batch, recorded as sent');
my ($plans, $worst, $where) = wasted_rows('tjsender', $offset);
cmp_ok($plans, '>', 2, "the statements under the sender's UPDATE were logged with their plans");
cmp_ok($worst, '<=', 5 * $rows, "no plan node read every changed row once per changed row (worst: $worst rows thrown away)")
	or diag($where);
is($node->safe_psql('postgres', q{SELECT sum(sent) FROM antiban.send_minute_changes}), $rows + 1,
	'the statement triggers still counted every send');

# As the webhook apply moves them: one delivered status, then a batch.
sub status_body
{
	my ($from, $count) = @_;
	my @statuses = map {
		sprintf('{"id":"wamid.TJ%d","status":"delivered","timestamp":"%d","recipient_id":"55119877%05d"}',
			$_, time(), $_)
	} ($from .. $from + $count - 1);
	return '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
	  . '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
	  . '"statuses":[' . join(',', @statuses) . ']}}]}]}';
}
my $first = $node->safe_psql('postgres', q{SELECT min(id) FROM antiban.outbox WHERE state = 'sent'});
# (each stored and applied in one transaction: the webhook apply worker,
# which sweeps pending events every second, never sees them, so this
# session's apply is the one that moves them and logs its plans)
my $apply = q{BEGIN;
	INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM (VALUES ('%s')) v(b);
	SELECT antiban.apply_pending_webhooks();
	COMMIT;};
$offset = -s $node->logfile;
is($node->safe_psql('postgres', sprintf($apply, status_body($first, 1)) . sprintf($apply, status_body($first + 1, $rows)),
	connstr => $node->connstr('postgres') . ' application_name=tjapply'), "1\n1", 'this session applied both events');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE state = 'delivered'}), $rows + 1,
	'one status, then a batch, applied');
($plans, $worst, $where) = wasted_rows('tjapply', $offset);
cmp_ok($plans, '>', 2, "the statements under the webhook apply were logged with their plans");
cmp_ok($worst, '<=', 5 * $rows, "no plan node read every status once per status (worst: $worst rows thrown away)")
	or diag($where);

# Inbound messages, each from its own person (a lead each): one, then a batch.
sub inbound_body
{
	my ($n) = @_;
	return sprintf('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
		  . '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
		  . '"contacts":[{"profile":{"name":"Lead %d"},"wa_id":"55119866%05d"}],'
		  . '"messages":[{"from":"55119866%05d","id":"wamid.TJIN%d","timestamp":"%d","type":"text",'
		  . '"text":{"body":"Quero investir 300 mil em CDB"}}]}}]}]}', $n, $n, $n, $n, time());
}
my $store = q{INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
	SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
	FROM unnest(ARRAY[%s]) b;};
sub quoted { join(',', map { "'$_'" } @_) }
$offset = -s $node->logfile;
# (stored and applied in one transaction each, as above)
is($node->safe_psql('postgres', 'BEGIN;' . sprintf($store, quoted(inbound_body(0))) . 'SELECT antiban.apply_pending_webhooks(); COMMIT;'
	  . 'BEGIN;' . sprintf($store, quoted(map { inbound_body($_) } 1 .. $rows))
	  . "SELECT antiban.apply_pending_webhooks($rows + 1); COMMIT;",
	connstr => $node->connstr('postgres') . ' application_name=tjinbound'), "1\n$rows", 'this session applied every event');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.interactions WHERE wamid LIKE 'wamid.TJIN%'}), $rows + 1,
	'one inbound message, then a batch, applied');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.leads}), $rows + 1, 'a lead for each person');
($plans, $worst, $where) = wasted_rows('tjinbound', $offset);
cmp_ok($plans, '>', 2, "the statements under the inbound apply were logged with their plans");
cmp_ok($worst, '<=', 5 * $rows, "no plan node read every message once per message (worst: $worst rows thrown away)")
	or diag($where);

$node->stop;
done_testing();
