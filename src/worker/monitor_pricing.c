/*
 * monitor_pricing.c
 *		The daily pricing_analytics poll: what Meta counts and charges per
 *		UTC day, country, pricing category, type and tier, stored for
 *		antiban.pricing_reconciliation.
 *
 * Called by the poll loop for each WABA it polls, with the calls the
 * rolling hour still allows: one GET at most, counted in
 * antiban.mgmt_calls like every management call.  Whether a poll is due
 * and which days it covers come from SQL (antiban.pricing_poll_due); the
 * HTTP call runs outside any transaction.  dimensions() comes before
 * metric_types(): with the other order Meta has been seen to drop the
 * field silently.
 */
#include "worker/monitor_pricing.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cloudapi/http_once.h"
#include "worker/worker_txn.h"

#define PRICING_TIMEOUT_MS 20000

static const char *const pricing_fields =
"pricing_analytics.start(%lld).end(%lld).granularity(DAILY)"
".dimensions([COUNTRY,PRICING_CATEGORY,PRICING_TYPE,TIER]).metric_types([COST,VOLUME])";

/* The window due for this WABA, in unix seconds; false when not due. */
static bool
pricing_window(int64 waba, long long *start, long long *end)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(waba)};
	bool		due;

	worker_begin("planning the pricing_analytics poll");
	if (SPI_execute_with_args("SELECT extract(epoch FROM start_at)::bigint, extract(epoch FROM end_at)::bigint"
							  " FROM antiban.pricing_poll_due($1)", 1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not plan the pricing_analytics poll");
	due = SPI_processed == 1;
	if (due)
	{
		bool		isnull;

		*start = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		*end = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	worker_commit();
	return due;
}

static void
store(int64 waba, const char *path, long status, long long start, long long end, const char *body,
	  const char *error)
{
	Oid			ctypes[3] = {INT8OID, TEXTOID, INT4OID};
	Datum		cargs[3] = {Int64GetDatum(waba), CStringGetTextDatum(path), Int32GetDatum((int32) status)};
	char		cnulls[3] = {' ', ' ', status ? ' ' : 'n'};

	worker_begin_to_finish("storing pricing_analytics");
	if (SPI_execute_with_args("SELECT antiban.record_mgmt_call($1, $2, $3)", 3, ctypes, cargs, cnulls,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not record a management call");
	if (error == NULL)
	{
		Oid			types[4] = {INT8OID, INT8OID, INT8OID, TEXTOID};
		Datum		args[4] = {Int64GetDatum(waba), Int64GetDatum(start), Int64GetDatum(end),
		CStringGetTextDatum(body)};

		if (SPI_execute_with_args("SELECT antiban.apply_pricing_poll($1, to_timestamp($2), to_timestamp($3), $4::jsonb)",
								  4, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not store pricing_analytics");
	}
	else
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		args[2] = {Int64GetDatum(waba), CStringGetTextDatum(error)};

		if (SPI_execute_with_args("SELECT antiban.record_pricing_poll_failure($1, $2)", 2, types, args, NULL,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not record a failed pricing_analytics poll");
	}
	worker_commit();
}

int
monitor_poll_pricing(int64 waba, const char *waba_id, const char *token, int budget)
{
	long long	start,
				end;
	char	   *fields;
	char		escaped[1024];
	HttpOnce	r;
	char		message[256];
	int			code = -1;
	char	   *error = NULL;
	char	   *path;

	if (budget <= 0 || !pricing_window(waba, &start, &end))
		return 0;
	fields = psprintf(pricing_fields, start, end);
	if (!http_escape(fields, escaped, sizeof(escaped)))
		elog(ERROR, "antiban: the pricing_analytics request does not fit");
	path = psprintf("%s?fields=%s", waba_id, fields);
	if (!http_once(psprintf("%s/%s/%s?fields=%s", antiban_graph_base_url, antiban_graph_version, waba_id, escaped),
				   token, NULL, PRICING_TIMEOUT_MS, &r))
		error = psprintf("no answer: %s", r.error);
	else if (r.status != 200 || graph_error(r.body, message, sizeof(message), &code))
	{
		if (!graph_error(r.body, message, sizeof(message), &code))
			snprintf(message, sizeof(message), "unexpected answer");
		error = psprintf("HTTP %ld, code %d: %s", r.status, code, message);
	}
	else if (r.body == NULL)
		error = "an empty answer";
	PG_TRY();
	{
		store(waba, path, r.status, start, end, r.body, error);
	}
	PG_FINALLY();
	{
		http_once_free(&r);
	}
	PG_END_TRY();
	if (error)
		ereport(LOG, (errmsg("antiban monitor: pricing_analytics of WABA %s: %s", waba_id, error)));
	return 1;
}
