# tester12: antiban.lint_text misses common Portuguese ways of asking for a
# card number or its security code (CVV).  Issue 12 §3: "asking for card
# numbers, passwords or national id numbers (CPF)" is an error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t12lint');
for my $text ('Me passa o número do cartão', 'Preciso do número do cartão',
	'Me passa o código de segurança do cartão')
{
	is($node->safe_psql('postgres', qq{
		SELECT string_agg(rule, ',') FROM antiban.lint_text('$text', 'service') WHERE severity = 'error'}),
		'sensitive_data_request', "lint_text flags \"$text\"");
}
# what it already catches, for contrast
is($node->safe_psql('postgres', q{
	SELECT string_agg(rule, ',') FROM antiban.lint_text('Informe o número do seu cartão', 'service')}),
	'sensitive_data_request', 'lint_text flags "Informe o número do seu cartão"');
$node->stop;
done_testing();
