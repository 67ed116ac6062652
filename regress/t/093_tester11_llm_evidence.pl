# tester11 (issue 11 §2, LLM step): every slot the LLM fills must come "with
# the quoted evidence" and the answer is refused when the quote does not
# support it.  Today antiban.lead_llm_check_slot accepts any quote that is a
# substring of the message, even one letter, and a quote the rules read no
# amount from leaves any amount standing: an LLM that hallucinates (or a lead
# that prompt-injects it) gets "R$ 5 milhões", "10 anos", "CDB" or "sem
# dinheiro" accepted with the quote "e", and these become features the model
# weighs.  A quote must state what the slot says.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AntibanTest;

my $node = antiban_node('t11_llm_evidence', 'antiban.sender_workers' => 0);

sub problem
{
	my ($slot, $value, $number, $quote, $message) = @_;
	my $v = defined $value ? "'$value'" : 'NULL';
	my $n = defined $number ? $number : 'NULL';
	return $node->safe_psql('postgres', qq{SELECT coalesce(problem, 'accepted: ' || words)
		FROM antiban.lead_llm_check_slot('$slot', $v, $n, '$quote', 7, '{7}', ARRAY['$message'])});
}

# sanity: a real quote is accepted
like(problem('amount', undef, 50000, '50 mil', 'quero aplicar 50 mil num CDB'), qr/^accepted/,
	'a quote that states the amount is accepted');
unlike(problem('amount', undef, 5000000, 'e', 'quero investir em CDB'), qr/^accepted/,
	'an amount of R$ 5 million quoted as "e" is refused');
unlike(problem('amount', undef, 5000000, 'quero investir', 'quero investir em CDB'), qr/^accepted/,
	'an amount quoted by words that state no amount is refused');
unlike(problem('horizon', undef, 120, 'e', 'quero investir em CDB'), qr/^accepted/,
	'a horizon of 10 years quoted as "e" is refused');
unlike(problem('product', 'cdb', undef, 'e', 'quero investir em renda fixa'), qr/^accepted/,
	'product CDB quoted as "e" from a message about renda fixa is refused');
unlike(problem('objection', 'no_money', undef, 'e', 'tenho 2 milhões para investir'), qr/^accepted/,
	'objection "no money" quoted as "e" from a lead with 2 million is refused');
done_testing();
