# tester15 (issue 15 §1: "rotation ... never cross portfolios"): a template
# send without from_number is checked against the templates of every WABA
# with a number (template_lookup.c, WABAS_OF_ANY), not those of the
# portfolio the message belongs to.  So the app of A:
#  - queues a message with a template only B has, from A's own number:
#    Meta answers 132001 for it (an error against A's number, a lost message);
#  - learns B's template names, languages and parameter counts from the
#    errors ("Did you mean "promo_b"?", "It exists in: pt_BR", "takes 1 parameter").
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;
use Tester15Tenancy;

my $node = tenancy_node('t15_templates');

my ($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650103', 'promo_b', 'pt_BR', '["x"]')});
isnt($rc, 0, 'A\'s send of a template only B has is refused, as with from_number');
is($node->safe_psql('postgres', q{SELECT count(*) FROM antiban.outbox WHERE recipient = '+5511987650103' AND state = 'queued'}),
	'0', 'and nothing is queued from A\'s numbers with B\'s template');

($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650104', 'promo_bx', 'pt_BR', '["x"]')});
isnt($rc, 0, 'an unknown template is refused');
unlike($err, qr/promo_b"/, 'and the hint does not suggest B\'s template');
($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650105', 'promo_b', 'en_US', '["x"]')});
unlike($err, qr/exists in: pt_BR/, 'nor tell A the languages of B\'s template');
($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650106', 'promo_b', 'pt_BR', '["x", "y"]')});
unlike($err, qr/promo_b \(pt_BR\) takes 1 parameter/, 'nor how many parameters B\'s template takes');

# A's own template goes as before
($rc, $out, $err) = as_role($node, 'app_a',
	q{SELECT antiban.send_template('+5511987650107', 'promo_a', 'pt_BR', '["x"]')});
is($rc, 0, 'A\'s own template is queued') or diag($err);
done_testing();
