/*
 * test_rate_card.c
 *		Meta's rate card and volume-tier files: good files read whole, bad
 *		ones refused with the line and column named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "core/csv.h"
#include "core/rate_card.h"
#include "core/volume_tier.h"

static PricingCsv reader;

/* Read a whole rate card; returns rows read, or -1 with *e set. */
static int
read_card(const char *text, const char *currency, RateCardRow *rows, int max, PricingCsvError *e)
{
	int			n = 0,
				got = 0;

	if (!rate_card_open(&reader, text, strlen(text), currency, e))
		return -1;
	while (n < max && (got = rate_card_next(&reader, &rows[n], e)) > 0)
		n++;
	return got < 0 ? -1 : n;
}

static void
csv_fields_quotes_and_line_ends(void **state)
{
	CsvReader	r;
	char		buf[128];
	char	   *f[8];
	int			line;
	const char *why;
	const char *text = "\xEF\xBB\xBF" "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x\nlast";

	csv_init(&r, text, strlen(text));
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), 3);
	assert_int_equal(line, 1);
	assert_string_equal(f[0], "a");
	assert_string_equal(f[1], "b,c");
	assert_string_equal(f[2], "say \"hi\"");
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), 2);
	assert_int_equal(line, 2);
	assert_string_equal(f[0], "two\nlines");
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), 1);
	assert_int_equal(line, 4);
	assert_string_equal(f[0], "last");
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), 0);

	csv_init(&r, "\"open", 5);
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), -1);
	assert_non_null(strstr(why, "not closed"));
	csv_init(&r, "\"a\"b", 4);
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 8, &line, &why), -1);
	csv_init(&r, "a,b,c", 5);
	assert_int_equal(csv_read(&r, buf, sizeof(buf), f, 2, &line, &why), -1);
	csv_init(&r, "abcdefgh", 8);
	assert_int_equal(csv_read(&r, buf, 4, f, 2, &line, &why), -1);
}

static void
a_meta_card_reads_whole(void **state)
{
	RateCardRow rows[8];
	PricingCsvError e;
	const char *card =
		"Cost per message in USD on the WhatsApp Business Platform, effective October 1, 2026\n"
		"Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service,Meta Business Agent\r\n"
		"Brazil,USD,0.0625,0.0068,0.0068,n/a,0.0068,2.00\r\n"
		"India,USD,.0118,0.0014,0.0014,0.0304,0.0014,2.00\r\n"
		"\r\n"
		"\"Rest of Central & Eastern Europe\",usd,0.0860,0.0212,0.0212,,0.0212,2.00\r\n";

	assert_int_equal(read_card(card, "USD", rows, 8, &e), 3);
	assert_string_equal(rows[0].market, "Brazil");
	assert_int_equal(rows[0].line, 3);
	assert_true(rows[0].has[RATE_MARKETING]);
	assert_string_equal(rows[0].price[RATE_MARKETING], "0.0625");
	assert_false(rows[0].has[RATE_AUTHENTICATION_INTERNATIONAL]);
	assert_string_equal(rows[1].price[RATE_MARKETING], "0.0118");
	assert_string_equal(rows[1].price[RATE_AUTHENTICATION_INTERNATIONAL], "0.0304");
	assert_int_equal(rows[2].line, 6);
	assert_false(rows[2].has[RATE_AUTHENTICATION_INTERNATIONAL]);
}

static void
columns_in_any_order_and_optional_ones_missing(void **state)
{
	RateCardRow rows[2];
	PricingCsvError e;

	assert_int_equal(read_card("currency,MARKET,utility,marketing,authentication\nBRL,Brazil,0.034,0.3125,0.034\n",
							   "brl", rows, 2, &e), 1);
	assert_string_equal(rows[0].price[RATE_MARKETING], "0.3125");
	assert_string_equal(rows[0].price[RATE_UTILITY], "0.034");
	assert_false(rows[0].has[RATE_SERVICE]);
}

static void
bad_cards_name_line_and_column(void **state)
{
	RateCardRow rows[4];
	PricingCsvError e;
	const char *header = "Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n";
	char		text[512];

	snprintf(text, sizeof(text), "%sBrazil,USD,0,0625,0.0068,0.0068,n/a,0.0068\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.message, "8 fields"));

	snprintf(text, sizeof(text), "%sBrazil,USD,\"0,0625\",0.0068,0.0068,n/a,0.0068\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 3);
	assert_string_equal(e.column_name, "Marketing");
	assert_non_null(strstr(e.message, "decimal comma"));

	snprintf(text, sizeof(text), "%sBrazil,USD,0.0625,0.0068,0.0068,n/a,0.0068\nMexico,USD,0.0305,abc,0.0085,n/a,0.0085\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 4);
	assert_string_equal(e.column_name, "Utility");

	snprintf(text, sizeof(text), "%sBrazil,EUR,0.0625,0.0068,0.0068,n/a,0.0068\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_int_equal(e.column, 2);
	assert_string_equal(e.column_name, "Currency");

	snprintf(text, sizeof(text), "%s,USD,0.0625,0.0068,0.0068,n/a,0.0068\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_int_equal(e.column, 1);

	snprintf(text, sizeof(text), "%sBrazil,USD,-0.0625,0.0068,0.0068,n/a,0.0068\n", header);
	assert_int_equal(read_card(text, "USD", rows, 4, &e), -1);
	assert_non_null(strstr(e.message, "negative"));

	assert_int_equal(read_card("Market,Currency,Marketing,Utility\nBrazil,USD,1,1\n", "USD", rows, 4, &e), -1);
	assert_int_equal(e.line, 1);
	assert_non_null(strstr(e.message, "Authentication"));

	assert_int_equal(read_card("Market,Market,Currency,Marketing,Utility,Authentication\n", "USD", rows, 4, &e), -1);
	assert_int_equal(e.column, 2);
	assert_non_null(strstr(e.message, "twice"));

	assert_int_equal(read_card("Brazil,USD,0.0625\nMexico,USD,1\nChile,USD,1\nPeru,USD,1\nBolivia,USD,1\n", "USD", rows, 4, &e), -1);
	assert_non_null(strstr(e.message, "no header"));

	assert_int_equal(read_card("Cost per message in EUR on the WhatsApp Business Platform\nMarket,Currency,Marketing,Utility,Authentication\n",
							   "USD", rows, 4, &e), -1);
	assert_int_equal(e.line, 1);
	assert_non_null(strstr(e.message, "EUR"));

	assert_int_equal(read_card(header, "US", rows, 4, &e), -1);
	assert_non_null(strstr(e.message, "currency code"));
}

static void
prices_are_exact_decimals(void **state)
{
	char		out[PRICE_MAXLEN];
	const char *why;

	assert_int_equal(price_parse("0.0625", out, sizeof(out), &why), 1);
	assert_string_equal(out, "0.0625");
	assert_int_equal(price_parse(".136", out, sizeof(out), &why), 1);
	assert_string_equal(out, "0.136");
	assert_int_equal(price_parse("586", out, sizeof(out), &why), 1);
	assert_int_equal(price_parse("n/a", out, sizeof(out), &why), 0);
	assert_int_equal(price_parse("N/A", out, sizeof(out), &why), 0);
	assert_int_equal(price_parse("", out, sizeof(out), &why), 0);
	assert_int_equal(price_parse("1.", out, sizeof(out), &why), -1);
	assert_int_equal(price_parse("0.0000001", out, sizeof(out), &why), -1);
	assert_int_equal(price_parse("1e-3", out, sizeof(out), &why), -1);
	assert_int_equal(price_parse("$0.06", out, sizeof(out), &why), -1);
}

static void
tier_files_read_bands(void **state)
{
	PricingCsvError e;
	TierRow		row;
	const char *text =
		"Market,Currency,Category,From,To,Rate\n"
		"Rest of Africa,USD,Utility,0,\"100,000\",0.0040\n"
		"Rest of Africa,USD,Utility,100001,1000000,0.0038\n"
		"Saudi Arabia,USD,Authentication-International,40000001,MAX,0.0449\n"
		"Saudi Arabia,USD,Authentication,40000001,,0.0080\n";

	assert_true(tier_file_open(&reader, text, strlen(text), "USD", &e));
	assert_int_equal(tier_file_next(&reader, &row, &e), 1);
	assert_string_equal(row.market, "Rest of Africa");
	assert_int_equal(row.column, RATE_UTILITY);
	assert_int_equal(row.first, 0);
	assert_int_equal(row.last, 100000);
	assert_string_equal(row.rate, "0.0040");
	assert_int_equal(tier_file_next(&reader, &row, &e), 1);
	assert_int_equal(row.first, 100001);
	assert_int_equal(tier_file_next(&reader, &row, &e), 1);
	assert_int_equal(row.column, RATE_AUTHENTICATION_INTERNATIONAL);
	assert_int_equal(row.last, TIER_OPEN);
	assert_int_equal(tier_file_next(&reader, &row, &e), 1);
	assert_int_equal(row.last, TIER_OPEN);
	assert_int_equal(tier_file_next(&reader, &row, &e), 0);
}

static void
bad_tier_files_name_line_and_column(void **state)
{
	PricingCsvError e;
	TierRow		row;
	const char *marketing = "Market,Currency,Category,From,To,Rate\nBrazil,USD,Marketing,0,MAX,0.0625\n";
	const char *bad_to = "Market,Currency,Category,From,To,Rate\nBrazil,USD,Utility,0,lots,0.0068\n";
	const char *no_rate = "Market,Currency,Category,From,To,Rate\nBrazil,USD,Utility,0,MAX,n/a\n";

	assert_true(tier_file_open(&reader, marketing, strlen(marketing), "USD", &e));
	assert_int_equal(tier_file_next(&reader, &row, &e), -1);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 3);
	assert_string_equal(e.column_name, "Category");
	assert_true(tier_file_open(&reader, bad_to, strlen(bad_to), "USD", &e));
	assert_int_equal(tier_file_next(&reader, &row, &e), -1);
	assert_string_equal(e.column_name, "To");
	assert_true(tier_file_open(&reader, no_rate, strlen(no_rate), "USD", &e));
	assert_int_equal(tier_file_next(&reader, &row, &e), -1);
	assert_string_equal(e.column_name, "Rate");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(csv_fields_quotes_and_line_ends),
	cmocka_unit_test(a_meta_card_reads_whole),
	cmocka_unit_test(columns_in_any_order_and_optional_ones_missing),
	cmocka_unit_test(bad_cards_name_line_and_column),
	cmocka_unit_test(prices_are_exact_decimals),
	cmocka_unit_test(tier_files_read_bands),
	cmocka_unit_test(bad_tier_files_name_line_and_column),
};

UnitGroup
rate_card_tests(void)
{
	return (UnitGroup) UNIT_GROUP("rate_card", tests);
}
