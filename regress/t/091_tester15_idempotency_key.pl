# tester15 (issue 15 §1-§2): idempotency keys are one namespace for the whole
# database.  antiban.enqueue looks the key up as antiban_owner, before any
# portfolio is decided, in an outbox where outbox.idempotency_key is UNIQUE:
#  - the app of A sending with a key B already used gets B's outbox id back,
#    and A's own message is never queued (lost, with a success answer);
#  - it also tells A which keys B used (an id for a used key, a new row for a
#    fresh one) and B's outbox ids;
#  - A can take a key before B does: B's message is then the one that is
#    silently dropped (keys like "order-77" or "lead-42-welcome" are guessable);
#    a campaign's releases use the key campaign:<id>:<person>, whose parts A
#    reads from campaign_recipients (094), so A can keep B's campaign from
#    sending to anyone while it counts them as released.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_idem');

my ($rc, $b_id, $err) = as_role($node, 'app_b',
	q{SELECT antiban.send_template('+5521987650001', 'promo_b', 'pt_BR', '["Bia"]', idempotency_key => 'order-77')});
is($rc, 0, 'B queued a message with key order-77') or diag($err);

# A, unaware, uses the same key for its own customer
my $a_id;
($rc, $a_id, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650009', 'promo_a', 'pt_BR', '["Ana"]', idempotency_key => 'order-77')});
is($rc, 0, 'A\'s send with the same key answers') or diag($err);
isnt($a_id, $b_id, 'A is not handed B\'s outbox id');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE recipient = '+5511987650009'}), '1',
	'A\'s message to its own customer is in the outbox');
my ($rc2, $visible) = as_role($node, 'app_a', "SELECT count(*) FROM antiban.outbox WHERE id = " . ($a_id || 0));
is($visible, '1', 'and the id A got is a row A can see (and cancel)');

# A takes a key first; B's later send with it must still go
($rc, my $pre, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650010', 'promo_a', 'pt_BR', '["Ana"]', idempotency_key => 'lead-42-welcome')});
($rc, my $b2, $err) = as_role($node, 'app_b',
	q{SELECT antiban.send_template('+5521987650042', 'promo_b', 'pt_BR', '["Lia"]', idempotency_key => 'lead-42-welcome')});
is($rc, 0, 'B\'s send with a key A used answers') or diag($err);
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE recipient = '+5521987650042'}), '1',
	'B\'s message is queued even though A used the key first');

# the key stays idempotent within a portfolio
($rc, my $again, $err) = as_role($node, 'app_b',
	q{SELECT antiban.send_template('+5521987650001', 'promo_b', 'pt_BR', '["Bia"]', idempotency_key => 'order-77')});
is($again, $b_id, 'B sending order-77 again gets its own first id (idempotent within the portfolio)');

# B's campaign, whose release keys A takes first
$node->safe_psql('postgres', q{
	CREATE TABLE public.b_customers (phone text, params jsonb);
	INSERT INTO public.b_customers VALUES ('+5521987651001', '["Gisele"]');
	GRANT SELECT ON public.b_customers TO app_b;});
($rc, my $camp, $err) = as_role($node, 'app_b', q{
	SELECT antiban.create_campaign('b_xmas', 'promo_b', 'pt_BR', 'public.b_customers', params => 'params',
		recipient_column => 'phone')});
as_role($node, 'app_b', "SELECT antiban.start_campaign($camp)");
($rc, my $person, $err) = as_role($node, 'app_a',
	"SELECT person FROM antiban.campaign_recipients WHERE campaign_id = $camp");
$person = $node->safe_psql('postgres', "SELECT person FROM antiban.campaign_recipients WHERE campaign_id = $camp")
  if $person eq '';
as_role($node, 'app_a', "SELECT antiban.send_template('+5511987650011', 'promo_a', 'pt_BR', '[\"Ana\"]',
	idempotency_key => 'campaign:$camp:$person')");
$node->safe_psql('postgres', "UPDATE antiban.campaigns SET paced_at = paced_at - interval '1 hour' WHERE id = $camp;
	SELECT antiban.pace_campaigns();");
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE recipient = '+5521987651001'}), '1',
	'B\'s campaign queued its message to its recipient, whatever keys A used');
is($node->safe_psql('postgres', "SELECT count(*) FROM antiban.campaign_recipients r JOIN antiban.outbox o ON o.id = r.outbox_id
	WHERE r.campaign_id = $camp AND o.portfolio_id <> 2"), '0', 'and no recipient of B\'s campaign points at a message of A');
done_testing();
