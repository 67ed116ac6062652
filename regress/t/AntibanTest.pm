# Helpers shared by antiban's TAP tests.
package AntibanTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(antiban_node register_numbers);

# A started node with antiban preloaded, the extension created in 'postgres'.
sub antiban_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $extra = join('', map { "$_ = '$conf{$_}'\n" } sort keys %conf);
	$node->append_conf('postgresql.conf', <<"EOC" . $extra);
shared_preload_libraries = 'antiban'
antiban.database_name = 'postgres'
antiban.journal_flush_interval = '50ms'
EOC
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION antiban');
	return $node;
}

# One TIER_250 portfolio, one WABA, the given numbers (id => SQL column values).
sub register_numbers
{
	my ($node, %numbers) = @_;
	my $sql = "INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('100', 'TIER_250');
		INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);";
	for my $id (sort keys %numbers)
	{
		my $cols = $numbers{$id};
		my @names = ('phone_number_id', 'waba_id', sort keys %$cols);
		my @values = ("'$id'", 1, map { $cols->{$_} } sort keys %$cols);
		$sql .= sprintf("INSERT INTO antiban.numbers (%s) VALUES (%s);",
			join(', ', @names), join(', ', @values));
	}
	$node->safe_psql('postgres', $sql);
}

1;
