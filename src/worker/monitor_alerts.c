/*
 * monitor_alerts.c
 *		Post new alerts to antiban.alert_webhook_url as Slack-compatible JSON
 *		({"text": ...} plus the alert's fields), with retries.
 *
 * Listeners on NOTIFY antiban_alert hear of an alert at commit; this is for
 * people who are not connected.  A failed post is retried with a doubling
 * delay (antiban.record_alert_delivery), ten times at most.
 */
#include "worker/monitor.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "cloudapi/http_once.h"
#include "worker/worker_txn.h"

#define ALERTS_PER_TICK 20
#define ALERT_TIMEOUT_MS 5000

typedef struct Alert
{
	int64		id;
	char	   *json;
} Alert;

static const char *
severity_icon(const char *severity)
{
	if (strcmp(severity, "critical") == 0)
		return ":rotating_light:";
	if (strcmp(severity, "warning") == 0)
		return ":warning:";
	return ":information_source:";
}

static void
add_field(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, ", \"%s\": ", name);
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* {"text": "<icon> [critical] 3000000002 number_paused: ...", "severity": ...} */
static char *
alert_json(HeapTuple t, TupleDesc d)
{
	const char *severity = SPI_getvalue(t, d, SPI_fnumber(d, "severity"));
	const char *number = SPI_getvalue(t, d, SPI_fnumber(d, "phone_number_id"));
	const char *kind = SPI_getvalue(t, d, SPI_fnumber(d, "kind"));
	const char *detail = SPI_getvalue(t, d, SPI_fnumber(d, "detail"));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"text\": ");
	escape_json(&buf, psprintf("%s antiban [%s] %s%s%s: %s", severity_icon(severity), severity,
							   number ? number : "", number ? " " : "", kind, detail));
	add_field(&buf, "id", SPI_getvalue(t, d, SPI_fnumber(d, "id")));
	add_field(&buf, "created_at", SPI_getvalue(t, d, SPI_fnumber(d, "created_at")));
	add_field(&buf, "severity", severity);
	add_field(&buf, "phone_number_id", number);
	add_field(&buf, "kind", kind);
	add_field(&buf, "subject", SPI_getvalue(t, d, SPI_fnumber(d, "subject")));
	add_field(&buf, "detail", detail);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static int
load_alerts(Alert *alerts)
{
	MemoryContext keep = CurrentMemoryContext;
	int			n;

	worker_begin("reading alerts to deliver");
	if (SPI_execute(psprintf("SELECT * FROM antiban.alerts_to_deliver(%d)", ALERTS_PER_TICK), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read alerts");
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		MemoryContext spi = MemoryContextSwitchTo(keep);
		bool		isnull;

		alerts[i].id = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		alerts[i].json = alert_json(t, SPI_tuptable->tupdesc);
		MemoryContextSwitchTo(spi);
	}
	worker_commit();
	MemoryContextSwitchTo(keep);
	return n;
}

int
monitor_deliver_alerts(void)
{
	Alert		alerts[ALERTS_PER_TICK];
	bool		ok[ALERTS_PER_TICK];
	char	   *error[ALERTS_PER_TICK];
	char	   *url = pstrdup(antiban_alert_webhook_url);
	int			n = load_alerts(alerts);
	int			delivered = 0;

	for (int i = 0; i < n; i++)
	{
		HttpOnce	r;

		pgstat_report_activity(STATE_RUNNING, "posting alerts");
		ok[i] = http_once(url, NULL, alerts[i].json, ALERT_TIMEOUT_MS, &r) && r.status >= 200 && r.status < 300;
		error[i] = ok[i] ? NULL : r.status ? psprintf("HTTP %ld", r.status) : pstrdup(r.error);
		http_once_free(&r);
		delivered += ok[i];
	}
	if (n == 0)
		return 0;
	worker_begin_to_finish("recording alert deliveries");
	for (int i = 0; i < n; i++)
	{
		Oid			types[3] = {INT8OID, BOOLOID, TEXTOID};
		Datum		args[3] = {Int64GetDatum(alerts[i].id), BoolGetDatum(ok[i]),
		error[i] ? CStringGetTextDatum(error[i]) : (Datum) 0};
		char		nulls[3] = {' ', ' ', error[i] ? ' ' : 'n'};

		if (SPI_execute_with_args("SELECT antiban.record_alert_delivery($1, $2, $3)", 3, types, args, nulls,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "antiban: could not record an alert delivery");
	}
	worker_commit();
	return delivered;
}
