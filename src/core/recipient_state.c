/*
 * recipient_state.c
 *		A person's record in a portfolio: consent by event time, windows,
 *		sticky sender, counted reach, and how two records merge.
 */
#include "recipient_state.h"

#include <string.h>

#include "reach_window.h"

void
recipient_state_init(RecipientState *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->last_reach = REACH_NEVER;
	rs->consent_at = CONSENT_NEVER;
	rs->opt_in_at = CONSENT_NEVER;
	rs->stop_at = CONSENT_NEVER;
}

bool
consent_event_wins(const RecipientState *rs, bool opted_out, int64_t at)
{
	if (at != rs->consent_at)
		return at > rs->consent_at;
	return opted_out && !rs->opted_out;
}

static bool
take_consent(RecipientState *rs, bool wins, bool opted_out, int64_t at)
{
	/* a stop ends the opt-ins before it even when a later resume is in force */
	if (opted_out && at > rs->stop_at)
		rs->stop_at = at;
	if (wins)
	{
		rs->opted_out = opted_out;
		rs->consent_at = at;
	}
	return wins;
}

bool
recipient_state_set_consent(RecipientState *rs, bool opted_out, int64_t at)
{
	return take_consent(rs, consent_event_wins(rs, opted_out, at), opted_out, at);
}

bool
recipient_state_set_consent_now(RecipientState *rs, bool opted_out, int64_t now)
{
	return take_consent(rs, now >= rs->consent_at, opted_out, now);
}

bool
recipient_state_opt_in(RecipientState *rs, int64_t at, bool as_of_now)
{
	if (at > rs->opt_in_at)
		rs->opt_in_at = at;
	if (as_of_now)
		return recipient_state_set_consent_now(rs, false, at);
	return recipient_state_set_consent(rs, false, at);
}

bool
recipient_state_opt_in_live(const RecipientState *rs)
{
	return !rs->opted_out && rs->opt_in_at != CONSENT_NEVER && rs->opt_in_at > rs->stop_at;
}

void
recipient_state_set_time_zone(RecipientState *rs, uint16_t zone, int64_t at)
{
	if (at >= rs->time_zone_at)
	{
		rs->time_zone = zone;
		rs->time_zone_at = at;
	}
}

/* Merging: the later statement, or on a tie the larger index (commutative). */
static void
merge_time_zone(RecipientState *into, const RecipientState *from)
{
	if (from->time_zone_at > into->time_zone_at ||
		(from->time_zone_at == into->time_zone_at && from->time_zone > into->time_zone))
	{
		into->time_zone = from->time_zone;
		into->time_zone_at = from->time_zone_at;
	}
}

/* The number of the latest window wins too: it is the one the person wrote to last. */
void
recipient_state_open_window(RecipientState *rs, int64_t until, int64_t number_id)
{
	if (until < rs->window_until)
		return;
	rs->window_until = until;
	rs->window_number_id = number_id;
	rs->last_number_id = number_id;
}

void
recipient_state_defer_marketing(RecipientState *rs, int64_t until)
{
	if (until > rs->marketing_not_before)
		rs->marketing_not_before = until;
}

void
recipient_state_merge(RecipientState *into, const RecipientState *from)
{
	recipient_state_set_consent(into, from->opted_out, from->consent_at);
	if (from->window_until > into->window_until ||
		(from->window_until == into->window_until && from->window_number_id > into->window_number_id))
	{
		into->window_until = from->window_until;
		into->window_number_id = from->window_number_id;
	}
	/* the sticky number is the one of the latest send (ties: the larger id, for commutativity) */
	if (from->last_sent > into->last_sent ||
		(from->last_sent == into->last_sent && from->last_number_id > into->last_number_id))
	{
		into->last_sent = from->last_sent;
		into->last_number_id = from->last_number_id;
	}
	recipient_state_defer_marketing(into, from->marketing_not_before);
	if (from->opt_in_at > into->opt_in_at)
		into->opt_in_at = from->opt_in_at;
	if (from->stop_at > into->stop_at)
		into->stop_at = from->stop_at;
	for (int c = 0; c < CAP_CATEGORIES; c++)
		frequency_log_merge(&into->sent[c], &from->sent[c]);
	merge_time_zone(into, from);
	if (from->last_reach > into->last_reach)
		into->last_reach = from->last_reach;
	into->uncommitted_window = into->uncommitted_window || from->uncommitted_window;
}
