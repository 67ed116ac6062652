/*
 * pricing.c
 *		The pricing rules of src/core as SQL: a recipient's country and
 *		market on a date, what a webhook's pricing object means, volume-tier
 *		bands, and Meta's rate card and volume-tier files read into rows.
 */
#include "pg/antiban.h"

#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "core/pricing_category.h"
#include "core/pricing_market.h"
#include "core/rate_card.h"
#include "core/volume_tier.h"

/* A date as YYYYMMDD; 'infinity' is the mapping antiban knows last. */
static int
yyyymmdd(DateADT date)
{
	int			y,
				m,
				d;

	if (DATE_NOT_FINITE(date))
		return DATE_IS_NOBEGIN(date) ? 0 : 99991231;
	j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	return y * 10000 + m * 100 + d;
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = s == NULL;
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_recipient_market);

/* antiban.recipient_market(recipient text, on_date date, OUT country text, OUT market text) */
Datum
antiban_recipient_market(PG_FUNCTION_ARGS)
{
	const char *country;
	const char *market;
	Datum		values[2];
	bool		nulls[2];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	market = pricing_market_of_number(text_to_cstring(PG_GETARG_TEXT_PP(0)),
									  PG_ARGISNULL(1) ? 99991231 : yyyymmdd(PG_GETARG_DATEADT(1)),
									  &country);
	values[0] = text_or_null(country, &nulls[0]);
	values[1] = text_or_null(market, &nulls[1]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

PG_FUNCTION_INFO_V1(antiban_pricing_markets);

/* antiban.pricing_markets(on_date date): every country antiban maps, and its market that day. */
Datum
antiban_pricing_markets(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			date = PG_ARGISNULL(0) ? 99991231 : yyyymmdd(PG_GETARG_DATEADT(0));
	const char *country;
	const char *market;
	int			from,
				until;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; pricing_market_rule(i, &country, &market, &from, &until); i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if ((from && date < from) || (until && date >= until))
			continue;
		values[0] = CStringGetTextDatum(country);
		values[1] = CStringGetTextDatum(market);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(antiban_is_pricing_market);

Datum
antiban_is_pricing_market(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pricing_market_known(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(antiban_pricing_rule);

/*
 * antiban.pricing_rule(type text, category text, OUT charged boolean,
 *		OUT rate_column text, OUT fallback_column text, OUT tier_counter text)
 */
Datum
antiban_pricing_rule(PG_FUNCTION_ARGS)
{
	const char *type = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	RateColumn	column = rate_column_of_category(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	RateColumn	fallback = rate_column_fallback(column);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = BoolGetDatum(pricing_type_charged(type));
	values[1] = text_or_null(column == RATE_NONE ? NULL : rate_column_names[column], &nulls[1]);
	values[2] = text_or_null(fallback == RATE_NONE ? NULL : rate_column_names[fallback], &nulls[2]);
	values[3] = text_or_null(tier_counter_of(column), &nulls[3]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls)));
}

/* A bigint[] without NULLs, as a C array (its length in *n). */
static int64 *
bigint_array(ArrayType *a, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int64	   *out;

	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	out = palloc(sizeof(int64) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("volume tier bands must not be null")));
		out[i] = DatumGetInt64(elems[i]);
		if (i > 0 && out[i] <= out[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("volume tier bands must be in ascending order"),
					 errdetail("Each element is the count of messages before its band starts: 0, 100000, 1000000, ...")));
	}
	return out;
}

PG_FUNCTION_INFO_V1(antiban_tier_band);

/* antiban.tier_band(afters bigint[], position bigint): the 1-based band, NULL if none */
Datum
antiban_tier_band(PG_FUNCTION_ARGS)
{
	int			n;
	int64	   *afters = bigint_array(PG_GETARG_ARRAYTYPE_P(0), &n);
	int			band = tier_band_of(afters, n, PG_GETARG_INT64(1));

	if (band < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(band + 1);
}

PG_FUNCTION_INFO_V1(antiban_tier_spread);

/* antiban.tier_spread(afters bigint[], already bigint, count bigint): messages per band */
Datum
antiban_tier_spread(PG_FUNCTION_ARGS)
{
	int			n;
	int64	   *afters = bigint_array(PG_GETARG_ARRAYTYPE_P(0), &n);
	int64	   *spread = palloc(sizeof(int64) * Max(n, 1));
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	if (PG_GETARG_INT64(1) < 0 || PG_GETARG_INT64(2) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message counts must not be negative")));
	tier_spread(afters, n, PG_GETARG_INT64(1), PG_GETARG_INT64(2), spread);
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(spread[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(antiban_tier_label);

/* antiban.tier_label(after bigint, next_after bigint): "0:100000", "100001:MAX" */
Datum
antiban_tier_label(PG_FUNCTION_ARGS)
{
	char		buf[64];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tier_label(PG_GETARG_INT64(0), PG_ARGISNULL(1) ? TIER_OPEN : PG_GETARG_INT64(1), buf, sizeof(buf));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/* ---- Meta's files ---- */

static void
report(const char *file, const PricingCsvError *e)
{
	if (e->line == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s", file, e->message),
				 e->hint ? errhint("%s", e->hint) : 0));
	if (e->column == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s line %d: %s", file, e->line, e->message),
				 e->hint ? errhint("%s", e->hint) : 0));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("%s line %d, column %d (%s): %s", file, e->line, e->column, e->column_name, e->message),
			 e->hint ? errhint("%s", e->hint) : 0));
}

static const char *
arg_text(FunctionCallInfo fcinfo, int i, const char *what)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

PG_FUNCTION_INFO_V1(antiban_read_rate_card);

/*
 * antiban.read_rate_card(csv text, currency text): one row per market
 * (line, market, marketing, utility, authentication,
 * authentication_international, service), prices as numeric, NULL for n/a.
 */
Datum
antiban_read_rate_card(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *csv = arg_text(fcinfo, 0, "the rate card");
	const char *currency = arg_text(fcinfo, 1, "the currency");
	PricingCsv *reader = palloc(sizeof(PricingCsv));
	PricingCsvError e;
	RateCardRow row;
	AttInMetadata *meta;
	int			got;

	InitMaterializedSRF(fcinfo, 0);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	if (!rate_card_open(reader, csv, strlen(csv), currency, &e))
		report("rate card", &e);
	while ((got = rate_card_next(reader, &row, &e)) > 0)
	{
		char		line[16];
		char	   *values[2 + RATE_NCOLUMNS];

		snprintf(line, sizeof(line), "%d", row.line);
		values[0] = line;
		values[1] = row.market;
		for (int c = 0; c < RATE_NCOLUMNS; c++)
			values[2 + c] = row.has[c] ? row.price[c] : NULL;
		tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
	}
	if (got < 0)
		report("rate card", &e);
	return (Datum) 0;
}

static int
compare_tier_rows(const void *a, const void *b)
{
	const TierRow *x = a;
	const TierRow *y = b;
	int			c = strcmp(x->market, y->market);

	if (c == 0)
		c = (int) x->column - (int) y->column;
	if (c == 0)
		c = x->first < y->first ? -1 : x->first > y->first;
	return c;
}

/* Each market's bands of each category must cover every count once. */
static void
check_bands(TierRow *rows, int n)
{
	for (int start = 0; start < n;)
	{
		int			end = start;
		int64	   *firsts;
		int64	   *lasts;
		int			bad;
		const char *why;

		while (end < n && strcmp(rows[start].market, rows[end].market) == 0 &&
			   rows[start].column == rows[end].column)
			end++;
		firsts = palloc(sizeof(int64) * (end - start));
		lasts = palloc(sizeof(int64) * (end - start));
		for (int i = start; i < end; i++)
		{
			firsts[i - start] = rows[i].first;
			lasts[i - start] = rows[i].last;
		}
		if (!tier_bands_check(firsts, lasts, end - start, &bad, &why))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("volume tiers line %d: %s %s bands: %s", rows[start + bad].line,
							rows[start].market, rate_column_names[rows[start].column], why),
					 errhint("Bands are first:last message numbers of the month, such as 0:100000, 100001:1000000, ..., 80000001:MAX.")));
		start = end;
	}
}

PG_FUNCTION_INFO_V1(antiban_read_volume_tiers);

/*
 * antiban.read_volume_tiers(csv text, currency text): one row per band
 * (line, market, category, volume_after, rate), checked to cover every
 * count of each market and category exactly once.
 */
Datum
antiban_read_volume_tiers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *csv = arg_text(fcinfo, 0, "the volume tiers");
	const char *currency = arg_text(fcinfo, 1, "the currency");
	PricingCsv *reader = palloc(sizeof(PricingCsv));
	PricingCsvError e;
	int			cap = 64,
				n = 0,
				got;
	TierRow    *rows = palloc(sizeof(TierRow) * cap);
	AttInMetadata *meta;

	InitMaterializedSRF(fcinfo, 0);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	if (!tier_file_open(reader, csv, strlen(csv), currency, &e))
		report("volume tiers", &e);
	while ((got = tier_file_next(reader, &rows[n], &e)) > 0)
		if (++n == cap)
			rows = repalloc(rows, sizeof(TierRow) * (cap *= 2));
	if (got < 0)
		report("volume tiers", &e);
	qsort(rows, n, sizeof(TierRow), compare_tier_rows);
	check_bands(rows, n);
	for (int i = 0; i < n; i++)
	{
		char		line[16],
					after[24];
		char	   *values[5];

		snprintf(line, sizeof(line), "%d", rows[i].line);
		snprintf(after, sizeof(after), INT64_FORMAT, tier_after(rows[i].first));
		values[0] = line;
		values[1] = rows[i].market;
		values[2] = (char *) rate_column_names[rows[i].column];
		values[3] = after;
		values[4] = rows[i].rate;
		tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
	}
	return (Datum) 0;
}
