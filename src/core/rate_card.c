/*
 * rate_card.c
 *		Meta's rate card and volume-tier files (see rate_card.h).
 *
 * Both readers share one shape: skip a title line, find the header, map
 * the columns we know by name (so their order and extra columns do not
 * matter), then check every data line against it.  Every error says the
 * line, the column and what was wrong, because these files are edited by
 * hand more often than one would hope.
 */
#include "core/rate_card.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/volume_tier.h"

#define TITLE_LINES 3			/* lines that may come before the header */

/* ---- shared: header, rows, errors ---- */

static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Compare column names ignoring case, and spaces, '_' and '-' alike. */
static bool
same_name(const char *a, const char *b)
{
	for (;; a++, b++)
	{
		char		x = (*a == ' ' || *a == '_') ? '-' : (char) tolower((unsigned char) *a);
		char		y = (*b == ' ' || *b == '_') ? '-' : (char) tolower((unsigned char) *b);

		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

static void fail(PricingCsvError *e, int line, int column, const char *column_name, const char *hint,
				 const char *fmt,...) __attribute__((format(printf, 6, 7)));

static void
fail(PricingCsvError *e, int line, int column, const char *column_name, const char *hint,
	 const char *fmt,...)
{
	va_list		ap;

	e->line = line;
	e->column = column;
	snprintf(e->column_name, sizeof(e->column_name), "%s", column_name ? column_name : "");
	e->hint = hint;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* An error about known column k of the current line. */
static void
fail_at(PricingCsv *r, PricingCsvError *e, int k, const char *hint, const char *fmt, const char *value)
{
	int			field = r->index[k];

	fail(e, r->line, field + 1, r->header[field], hint, fmt, value);
}

static const char *
field(PricingCsv *r, int k)
{
	return r->index[k] < 0 ? NULL : r->fields[r->index[k]];
}

/* Read one record, trimmed; blank lines are skipped.  1, 0 (end) or -1. */
static int
read_record(PricingCsv *r, int *n, PricingCsvError *e)
{
	const char *why;

	do
	{
		*n = csv_read(&r->csv, r->buf, sizeof(r->buf), r->fields, PRICING_CSV_MAX_FIELDS, &r->line, &why);
		if (*n < 0)
		{
			fail(e, r->line, 0, NULL, "Check the quotes on that line, or that it is a CSV file at all.",
				 "%s", why);
			return -1;
		}
		for (int i = 0; i < *n; i++)
			r->fields[i] = trim(r->fields[i]);
	} while (*n == 1 && r->fields[0][0] == '\0');
	return *n > 0;
}

/* A title naming a currency ("Cost per message in USD ...") must name ours. */
static bool
title_currency_agrees(PricingCsv *r, int n, PricingCsvError *e)
{
	for (int i = 0; i < n; i++)
		for (const char *p = strstr(r->fields[i], "in "); p; p = strstr(p + 1, "in "))
		{
			const char *c = p + 3;

			if (isupper((unsigned char) c[0]) && isupper((unsigned char) c[1]) &&
				isupper((unsigned char) c[2]) && (c[3] == ' ' || c[3] == '\0') &&
				(p == r->fields[i] || p[-1] == ' ') && strncmp(c, r->currency, 3) != 0)
			{
				fail(e, r->line, 0, NULL, "Load each currency's file with its own currency: the cards are separate price lists.",
					 "the title says the prices are in %.3s, but this card is being loaded as %s", c, r->currency);
				return false;
			}
		}
	return true;
}

static bool
map_header(PricingCsv *r, int n, PricingCsvError *e)
{
	r->nfields = n;
	for (int i = 0; i < n; i++)
		snprintf(r->header[i], sizeof(r->header[i]), "%s", r->fields[i]);
	for (int k = 0; k < r->nnames; k++)
	{
		r->index[k] = -1;
		for (int i = 0; i < n; i++)
		{
			if (!same_name(r->fields[i], r->names[k]))
				continue;
			if (r->index[k] >= 0)
			{
				fail(e, r->line, i + 1, r->header[i], NULL, "column %s appears twice in the header", r->names[k]);
				return false;
			}
			r->index[k] = i;
		}
		if (r->index[k] < 0 && r->required[k])
		{
			fail(e, r->line, 0, NULL, "The header names the columns; their order does not matter.",
				 "the header has no %s column", r->names[k]);
			return false;
		}
	}
	return true;
}

static bool
open_file(PricingCsv *r, const char *text, size_t len, const char *currency,
		  const char *const *names, const bool *required, int nnames, PricingCsvError *e)
{
	int			n;

	memset(e, 0, sizeof(*e));
	csv_init(&r->csv, text, len);
	r->names = names;
	r->required = required;
	r->nnames = nnames;
	if (!currency_code(currency, r->currency))
	{
		fail(e, 0, 0, NULL, "Use the ISO 4217 code of the card's currency, such as USD, BRL or EUR.",
			 "\"%s\" is not a currency code", currency ? currency : "");
		return false;
	}
	for (int seen = 0; seen <= TITLE_LINES; seen++)
	{
		int			got = read_record(r, &n, e);

		if (got < 0)
			return false;
		if (got == 0)
			break;
		for (int i = 0; i < n; i++)
			if (same_name(r->fields[i], names[0]))
				return map_header(r, n, e);
		if (!title_currency_agrees(r, n, e))
			return false;
	}
	fail(e, 1, 0, NULL, "The file must start with a header line (after at most a title line), such as: Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service",
		 "no header line with a %s column", names[0]);
	return false;
}

/* The next data line, with as many fields as the header; 1, 0 or -1. */
static int
next_row(PricingCsv *r, PricingCsvError *e)
{
	int			n;
	int			got = read_record(r, &n, e);
	const char *market;
	const char *currency;
	char		code[4];

	if (got <= 0)
		return got;
	if (n != r->nfields)
	{
		fail(e, r->line, 0, NULL, "A value with a comma must be in double quotes.",
			 "the line has %d fields, the header %d", n, r->nfields);
		return -1;
	}
	market = field(r, 0);
	if (market[0] == '\0' || strlen(market) >= PRICING_MARKET_MAXLEN)
	{
		fail_at(r, e, 0, NULL, market[0] ? "the market name \"%.40s...\" is too long" : "the market is empty%s", market);
		return -1;
	}
	currency = field(r, 1);
	if (!currency_code(currency, code) || strcmp(code, r->currency) != 0)
	{
		fail_at(r, e, 1, "Load each currency's file with its own currency: the cards are separate price lists, never converted.",
				"currency \"%s\" is not the card's", currency);
		return -1;
	}
	return 1;
}

/* ---- values ---- */

int
price_parse(const char *s, char *out, size_t size, const char **why)
{
	int			before = 0,
				after = 0;
	const char *p = s;
	bool		point = false;

	if (*s == '\0' || strcasecmp(s, "n/a") == 0 || strcmp(s, "-") == 0 || strcasecmp(s, "na") == 0)
		return 0;
	for (; *p; p++)
	{
		if (isdigit((unsigned char) *p))
			point ? after++ : before++;
		else if (*p == '.' && !point)
			point = true;
		else
		{
			*why = *p == ',' ? "a decimal comma: write prices with a decimal point"
				: *p == '-' ? "a negative price"
				: "not a price (digits with an optional decimal point)";
			return -1;
		}
	}
	if (before + after == 0 || (point && after == 0))
	{
		*why = "not a price (digits with an optional decimal point)";
		return -1;
	}
	if (before > 8 || after > 6)
	{
		*why = "a price has at most 8 digits before the decimal point and 6 after it";
		return -1;
	}
	if ((size_t) (before + after + 3) > size)
	{
		*why = "the price is too long";
		return -1;
	}
	snprintf(out, size, "%s%s", before == 0 ? "0" : "", s);
	return 1;
}

bool
currency_code(const char *s, char *out)
{
	if (s == NULL || strlen(s) != 3)
		return false;
	for (int i = 0; i < 3; i++)
	{
		if (!isalpha((unsigned char) s[i]))
			return false;
		out[i] = (char) toupper((unsigned char) s[i]);
	}
	out[3] = '\0';
	return true;
}

/* A message count: digits, optionally grouped by ',', ' ' or '_'. */
static bool
count_parse(const char *s, int64_t *out)
{
	int64_t		v = 0;
	int			digits = 0;

	for (const char *p = s; *p; p++)
	{
		if (isdigit((unsigned char) *p))
		{
			if (++digits > 15)
				return false;
			v = v * 10 + (*p - '0');
		}
		else if (!((*p == ',' || *p == ' ' || *p == '_') && digits > 0 && isdigit((unsigned char) p[1])))
			return false;
	}
	*out = v;
	return digits > 0;
}

/* ---- rate cards ---- */

enum
{
	RC_MARKET, RC_CURRENCY, RC_MARKETING, RC_UTILITY, RC_AUTHENTICATION, RC_AUTH_INTL, RC_SERVICE, RC_N
};
static const char *const rate_names[RC_N] = {
	"Market", "Currency", "Marketing", "Utility", "Authentication", "Authentication-International", "Service"
};
static const bool rate_required[RC_N] = {true, true, true, true, true, false, false};

bool
rate_card_open(PricingCsv *r, const char *text, size_t len, const char *currency, PricingCsvError *e)
{
	return open_file(r, text, len, currency, rate_names, rate_required, RC_N, e);
}

int
rate_card_next(PricingCsv *r, RateCardRow *row, PricingCsvError *e)
{
	int			got = next_row(r, e);

	if (got <= 0)
		return got;
	memset(row, 0, sizeof(*row));
	row->line = r->line;
	snprintf(row->market, sizeof(row->market), "%s", field(r, RC_MARKET));
	for (int c = 0; c < RATE_NCOLUMNS; c++)
	{
		const char *value = field(r, RC_MARKETING + c);
		const char *why;
		int			parsed;

		if (value == NULL)
			continue;			/* an optional column the file does not have */
		parsed = price_parse(value, row->price[c], PRICE_MAXLEN, &why);
		if (parsed < 0)
		{
			fail(e, r->line, r->index[RC_MARKETING + c] + 1, r->header[r->index[RC_MARKETING + c]],
				 "Prices are per delivered message, like 0.0625; write n/a where a market has none.",
				 "\"%s\": %s", value, why);
			return -1;
		}
		row->has[c] = parsed == 1;
	}
	return 1;
}

/* ---- volume tiers ---- */

enum
{
	VT_MARKET, VT_CURRENCY, VT_CATEGORY, VT_FROM, VT_TO, VT_RATE, VT_N
};
static const char *const tier_names[VT_N] = {"Market", "Currency", "Category", "From", "To", "Rate"};
static const bool tier_required[VT_N] = {true, true, true, true, true, true};

bool
tier_file_open(PricingCsv *r, const char *text, size_t len, const char *currency, PricingCsvError *e)
{
	return open_file(r, text, len, currency, tier_names, tier_required, VT_N, e);
}

int
tier_file_next(PricingCsv *r, TierRow *row, PricingCsvError *e)
{
	int			got = next_row(r, e);
	const char *value;
	const char *why;

	if (got <= 0)
		return got;
	memset(row, 0, sizeof(*row));
	row->line = r->line;
	snprintf(row->market, sizeof(row->market), "%s", field(r, VT_MARKET));
	value = field(r, VT_CATEGORY);
	row->column = rate_column_of_category(value);
	if (tier_counter_of(row->column) == NULL)
	{
		fail_at(r, e, VT_CATEGORY, "Only Utility, Authentication and Authentication-International have volume tiers.",
				"\"%s\" has no volume tiers", value);
		return -1;
	}
	value = field(r, VT_FROM);
	if (!count_parse(value, &row->first))
	{
		fail_at(r, e, VT_FROM, "From is the band's first message number, such as 100,001.",
				"\"%s\" is not a message count", value);
		return -1;
	}
	value = field(r, VT_TO);
	if (value[0] == '\0' || strcasecmp(value, "MAX") == 0)
		row->last = TIER_OPEN;
	else if (!count_parse(value, &row->last))
	{
		fail_at(r, e, VT_TO, "To is the band's last message number; leave it empty or write MAX for the top band.",
				"\"%s\" is not a message count", value);
		return -1;
	}
	value = field(r, VT_RATE);
	if (price_parse(value, row->rate, PRICE_MAXLEN, &why) != 1)
	{
		fail_at(r, e, VT_RATE, "Every band has a price per delivered message, like 0.0038.",
				"\"%s\" is not a price", value);
		return -1;
	}
	return 1;
}
