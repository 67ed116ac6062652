/*
 * send.c
 *		antiban.enqueue(): validate a message, decide, and put it in the
 *		outbox.  The SQL send functions (send_template, send_text, send,
 *		mark_read) build the payload and call this.
 *
 * The decision here only looks (the sender worker takes the tokens when it
 * really sends); it chooses the row's first state: queued (due now or at the
 * earliest admissible time) or rejected, with its reason.  A free-form
 * message outside a service window is an error, never a 131047 from Meta.
 *
 * A recipient that is not one (no "+", a typo, NULL) is a decision too:
 * the row is rejected with reason invalid_recipient and the recipient as
 * given, not an error.  An error would roll back every message of the
 * caller's statement ("INSERT ... SELECT antiban.send_template(phone, ...)
 * FROM leads" over 10,000 leads, one of them mistyped) and leave no trace
 * of the bad one; the row says which and why, like an opt-out does.
 *
 * The row keeps the recipient as given (normalised: what Meta is sent) and
 * the person it names in the chosen number's portfolio, when known.
 */
#include "pg/antiban.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/payload.h"
#include "pg/jsonb_view.h"
#include "pg/privileged.h"
#include "pg/enqueue.h"
#include "pg/template_lookup.h"


void
check_payload(const char *type, Category category, Jsonb *payload)
{
	JsonView	view = jsonb_view(payload);
	PayloadError err;

	if (!payload_type_known(type) && strcmp(type, PAYLOAD_READ_RECEIPT) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown message type \"%s\"", type),
				 errhint("Use text, image, video, audio, document, sticker, location, contacts, interactive, reaction or template.")));
	if (payload_type_is_template(type) == (category == CATEGORY_SERVICE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s message can not have category %s", type, category_name(category)),
				 errdetail("Templates are marketing, utility or authentication; every other message is a free-form service message."),
				 errhint("%s", payload_type_is_template(type) ? "Pass the template's category." : "Use category => 'service', or send a template.")));
	if (!payload_validate(type, &view, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s message: %s %s", type, err.field, err.message),
				 errdetail("Field \"%s\" of the payload does not meet the WhatsApp Cloud API's limits.", err.field),
				 errhint("See the Cloud API reference for %s messages; the payload was not queued.", type)));
}

/*
 * The message an idempotency key already made in this portfolio (0: none).
 * Keys are per portfolio: another business's key is not ours to find.
 */
static int64
existing_id(const char *key, int64 portfolio_id)
{
	static SPIPlanPtr in_portfolio = NULL;
	static SPIPlanPtr in_none = NULL;
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		args[2] = {CStringGetTextDatum(key), Int64GetDatum(portfolio_id)};
	SPIPlanPtr	plan;
	bool		isnull;

	if (in_portfolio == NULL)
		in_portfolio = privileged_prepare("SELECT id FROM antiban.outbox"
										  " WHERE portfolio_id = $2 AND idempotency_key = $1", 2, types);
	if (in_none == NULL)
		in_none = privileged_prepare("SELECT id FROM antiban.outbox"
									 " WHERE portfolio_id IS NULL AND idempotency_key = $1", 1, types);
	plan = portfolio_id ? in_portfolio : in_none;
	/* not read-only: a row this transaction just inserted must be seen */
	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * A row with a key goes through ON CONFLICT (a speculative insertion: an
 * index pre-check, a speculative token, one more WAL record); a row without
 * one can not conflict on the keys' index (its predicate excludes it), so it
 * is inserted plainly, and fails on any other unique index exactly as the
 * ON CONFLICT form would.
 */
#define INSERT_SQL(conflict) \
"INSERT INTO antiban.outbox (recipient, message_type, category, priority, payload, state," \
" not_before, valid_until, idempotency_key, metadata, number_id, phone_number_id," \
" portfolio_id, reason, detail, from_number, person_id)" \
" VALUES ($1, $2, $3::antiban.category, $4::antiban.priority, $5, $6::antiban.message_state," \
" $7, $8, $9, coalesce($10, '{}'), $11, $12, $13, $14, $15, $16," \
" (SELECT i.person_id FROM antiban.person_ids i WHERE i.portfolio_id = $13 AND i.key = $17))" \
conflict " RETURNING id"

static const char *const insert_sql[2] = {
	INSERT_SQL(""),
	INSERT_SQL(" ON CONFLICT (portfolio_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING")
};

#define TEXT_OR_NULL(s) ((s) ? CStringGetTextDatum(s) : (Datum) 0)

static int64
insert_row(const EnqueueRow *r)
{
	static SPIPlanPtr plans[2] = {NULL, NULL};
	bool		keyed = r->idempotency_key != NULL;
	Oid			types[17] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[17] = {
		TEXT_OR_NULL(r->recipient), CStringGetTextDatum(r->message_type),
		CStringGetTextDatum(category_name(r->category)), CStringGetTextDatum(priority_name(r->priority)),
		JsonbPGetDatum(r->payload), CStringGetTextDatum(r->state), TimestampTzGetDatum(r->not_before),
		TimestampTzGetDatum(r->valid_until), TEXT_OR_NULL(r->idempotency_key),
		r->metadata ? JsonbPGetDatum(r->metadata) : (Datum) 0, Int64GetDatum(r->number_id),
		TEXT_OR_NULL(r->phone_number_id), Int64GetDatum(r->portfolio_id),
		TEXT_OR_NULL(r->reason), TEXT_OR_NULL(r->detail), TEXT_OR_NULL(r->from_number),
		TEXT_OR_NULL(r->person_key),
	};
	char		nulls[17];
	bool		isnull;

	memset(nulls, ' ', sizeof(nulls));
	nulls[0] = r->recipient ? ' ' : 'n';
	nulls[7] = r->valid_until == TB_NEVER ? 'n' : ' ';
	nulls[8] = r->idempotency_key ? ' ' : 'n';
	nulls[9] = r->metadata ? ' ' : 'n';
	nulls[10] = r->number_id ? ' ' : 'n';
	nulls[11] = r->phone_number_id ? ' ' : 'n';
	nulls[12] = r->portfolio_id ? ' ' : 'n';
	nulls[13] = r->reason ? ' ' : 'n';
	nulls[14] = r->detail ? ' ' : 'n';
	nulls[15] = r->from_number ? ' ' : 'n';
	nulls[16] = r->person_key ? ' ' : 'n';
	if (plans[keyed] == NULL)
		plans[keyed] = privileged_prepare(insert_sql[keyed], 17, types);
	if (SPI_execute_plan(plans[keyed], v, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "antiban: could not insert into antiban.outbox");
	if (SPI_processed == 0)
		return r->idempotency_key ? existing_id(r->idempotency_key, r->portfolio_id) : 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The decision becomes the row's first state. */
void
apply_decision(EnqueueRow *r, NumbersCache *c, const Decision *d)
{
	if (d->outcome == OUTCOME_REJECT && d->reason == REASON_NO_SERVICE_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no open customer-service window with %s", r->recipient),
				 errdetail("Free-form messages may only be sent within 24 h of the recipient's last message to the sending number; Meta would answer 131047."),
				 errhint("Send an approved template instead: antiban.send_template(...).")));
	r->state = d->outcome == OUTCOME_REJECT ? "rejected" : "queued";
	r->not_before = d->outcome == OUTCOME_QUEUE ? d->not_before : r->not_before;
	r->reason = reason_name(d->reason);
	r->detail = d->detail;
	if (d->number)
	{
		const CachedNumber *n = &c->numbers[d->number->slot];

		r->number_id = n->view.id;
		r->phone_number_id = n->view.phone_number_id;
		r->portfolio_id = n->portfolio_id;
	}
}

/* metadata.frequency_caps (a campaign's own caps) as text, or NULL. */
const char *
metadata_caps(Jsonb *metadata)
{
	JsonView	v;
	const char *s;
	long		len;

	if (metadata == NULL)
		return NULL;
	v = jsonb_view(metadata);
	return v.text(v.ctx, "frequency_caps", &s, &len) ? pnstrdup(s, len) : NULL;
}

PG_FUNCTION_INFO_V1(antiban_check_message);

/*
 * antiban.check_message(message_type, category, payload [, from_number]):
 * the checks antiban.enqueue makes on a payload (Meta's limits, and for a
 * template the synced template's parameters, header, buttons and category),
 * queuing nothing.  Errors as enqueue would; returns nothing.  A campaign's
 * dry run uses it to name the rows a send would refuse.
 */
Datum
antiban_check_message(PG_FUNCTION_ARGS)
{
	const char *type = required_text_arg(fcinfo, 0, "message_type");
	Category	category = category_or_error(required_text_arg(fcinfo, 1, "category"));
	const char *from_number = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	Jsonb	   *payload;
	Privileged	priv;

	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("payload must not be null")));
	payload = PG_GETARG_JSONB_P(2);
	check_payload(type, category, payload);
	if (payload_type_is_template(type))
	{
		NumbersCache *c = numbers_cache_get();
		const char *portfolios = NULL;

		/* against the caller's own templates only, as a send would be */
		if (from_number)
			(void) tenancy_caller_number(c, GetUserId(), from_number);
		else
			portfolios = tenancy_scope_text(c, GetUserId());
		privileged_begin(&priv);
		SPI_connect();
		template_check_or_error(payload, category, from_number, portfolios);
		SPI_finish();
		privileged_end(&priv);
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(antiban_enqueue);

/*
 * antiban.enqueue(recipient, message_type, category, payload, priority,
 *				   valid_until, idempotency_key, metadata, from_number,
 *				   portfolio) -> id
 */
Datum
antiban_enqueue(PG_FUNCTION_ARGS)
{
	NumbersCache *c = numbers_cache_get();
	EnqueueRow	r = {0};
	const char *from_number = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	char		normalized[RECIPIENT_MAXLEN + 1];
	char		key[RECIPIENT_KEY_SIZE];
	uint64		kh;
	Privileged	priv;
	Oid			caller;
	int64		id;
	Decision	d;				/* r.detail points into it until the insert */

	r.message_type = required_text_arg(fcinfo, 1, "message_type");
	r.category = category_or_error(required_text_arg(fcinfo, 2, "category"));
	if (PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("payload must not be null")));
	r.payload = PG_GETARG_JSONB_P(3);
	r.priority = priority_or_error(PG_ARGISNULL(4) ? "normal" : text_to_cstring(PG_GETARG_TEXT_PP(4)));
	r.valid_until = PG_ARGISNULL(5) ? TB_NEVER : PG_GETARG_TIMESTAMPTZ(5);
	r.idempotency_key = PG_ARGISNULL(6) ? NULL :
		idempotency_key_or_error(text_to_cstring(PG_GETARG_TEXT_PP(6)), "idempotency_key", 0);
	r.metadata = PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7);
	r.not_before = antiban_now();
	r.from_number = from_number;
	check_payload(r.message_type, r.category, r.payload);

	/* the caller may send; the outbox itself is antiban's to write */
	caller = GetUserId();
	privileged_begin(&priv);
	SPI_connect();
	if (strcmp(r.message_type, "read_receipt") == 0)
	{
		CachedNumber *n = lookup_number_or_error(c, from_number ? from_number :
												 required_text_arg(fcinfo, 8, "phone_number_id"));

		tenancy_check_number(c, caller, n);
		r.state = "queued";
		r.number_id = n->view.id;
		r.phone_number_id = n->view.phone_number_id;
		r.portfolio_id = n->portfolio_id;
		if (r.idempotency_key && (id = existing_id(r.idempotency_key, r.portfolio_id)) != 0)
			goto done;
	}
	else
	{
		DecideArgs	args = {.cache = c, .now = r.not_before, .category = r.category,
			.priority = r.priority, .valid_until = r.valid_until, .from_number = from_number,
			.portfolio = PG_NARGS() > 9 && !PG_ARGISNULL(9) ? text_to_cstring(PG_GETARG_TEXT_PP(9)) : NULL,
		.role = caller, .consume = false};
		FrequencyCaps own_caps;
		const char *caps_text = metadata_caps(r.metadata);

		/* a campaign's own caps travel in metadata.frequency_caps */
		if (caps_text)
		{
			frequency_caps_or_error(caps_text, &own_caps);
			args.caps = &own_caps;
		}

		args.recipient = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
		/* the portfolio it belongs to, even while no number is chosen */
		r.portfolio_id = antiban_decide_portfolio(&args);
		/* the same key again: the first message, whatever changed since */
		if (r.idempotency_key && (id = existing_id(r.idempotency_key, r.portfolio_id)) != 0)
			goto done;
		/*
		 * what Meta approved: the template's parameters, header, buttons,
		 * category, on the WABAs of the message's portfolio (of the caller's
		 * when none is decided), never another portfolio's
		 */
		if (payload_type_is_template(r.message_type))
			template_check_or_error(r.payload, r.category, from_number,
									r.portfolio_id ? psprintf("{" INT64_FORMAT "}", r.portfolio_id) :
									tenancy_scope_text(c, caller));
		antiban_decide_message(&args, &d, normalized);
		/* a bad recipient is rejected below, kept as given */
		r.recipient = normalized[0] ? normalized : args.recipient ? args.recipient : "";
		if (normalized[0] && identity_key(normalized, key, &kh))
			r.person_key = key;
		apply_decision(&r, c, &d);
	}
	id = insert_row(&r);
	antiban_wake_senders_at_commit();
done:
	SPI_finish();
	privileged_end(&priv);
	PG_RETURN_INT64(id);
}
