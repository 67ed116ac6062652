# Anyone can post to the receiver: refused (unsigned) bodies keep at most
# antiban.webhook_rejected_per_hour rows an hour, the rest are only counted;
# and a body refused once is still stored and applied when Meta retries it
# signed (say after the app secret was set or rotated).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('refused', 'antiban.webhook_rejected_per_hour' => '5');
register_numbers($node, '1001' => {});
$node->safe_psql('postgres', q{
	SELECT antiban.set_secret('app_secret', 'app-secret-refused-0001');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;});

# The cap is per clock hour and every check below counts in the same hour:
# a run that would cross one waits for it to pass first.
my $to_next_hour = $node->safe_psql('postgres',
	q{SELECT extract(epoch FROM date_trunc('hour', clock_timestamp()) + interval '1 hour' - clock_timestamp())});
if ($to_next_hour < 120)
{
	note("waiting ${to_next_hour}s for the next hour");
	sleep(int($to_next_hour) + 2);
}

# 20 different unsigned bodies of 2 KB, as the receiver role
my $kept = $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE stored) FROM generate_series(1, 20) i,
	       antiban.ingest_webhook(convert_to('{"flood":' || i || ',"pad":"' || repeat('x', 2000) || '"}', 'UTF8'), NULL)},
	extra_params => [ '-U', 'receiver' ]);
is($kept, '5', 'only 5 of 20 refused bodies are kept this hour');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.webhook_events WHERE NOT signature_valid}), '5',
	'5 rows in webhook_events');
is($node->safe_psql('postgres', q{SELECT sum(posts) || ' ' || sum(kept) || ' ' || (sum(bytes) > 40000) FROM antiban.webhook_rejections}),
	'20 5 true', 'every refused POST and its bytes are counted');

# The same bytes refused first, then signed: stored and applied.
my $body = '{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511400000001","phone_number_id":"1001"},"contacts":[{"profile":{"name":"Bia"},"wa_id":"5511988887777"}],"messages":[{"from":"5511988887777","id":"wamid.R1","timestamp":"' . time() . '","type":"text","text":{"body":"PARAR"}}]}}]}]}';
my $sig = 'sha256=' . hmac_sha256_hex($body, 'app-secret-refused-0001');
is($node->safe_psql('postgres', qq{SELECT stored || ' ' || signature_valid FROM antiban.ingest_webhook(convert_to(\$b\$$body\$b\$, 'UTF8'), 'sha256=00')}),
	'false false', 'the unsigned copy is refused (and, past the cap, not kept)');
is($node->safe_psql('postgres', qq{SELECT stored || ' ' || signature_valid || ' ' || duplicate FROM antiban.ingest_webhook(convert_to(\$b\$$body\$b\$, 'UTF8'), '$sig')}),
	'true true false', 'the signed retry is stored, not a duplicate');
is($node->safe_psql('postgres', q{SELECT outcome || ' ' || reason FROM antiban.decide('+5511988887777', 'marketing', consume => false)}),
	'REJECT opted_out', 'and applied: the stop request blocks marketing');
$node->stop;
done_testing();
