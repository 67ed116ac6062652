/*
 * lead_engagement.c
 *		Decaying engagement counts and the features read from them.
 */
#include "lead_engagement.h"

#include <math.h>
#include <string.h>

#include "lead_features.h"

static const char *const kind_names[] = {
	[LEAD_EVENT_INBOUND] = "inbound",
	[LEAD_EVENT_TAP] = "tap",
	[LEAD_EVENT_OUTBOUND] = "outbound",
	[LEAD_EVENT_READ] = "read",
	[LEAD_EVENT_FAILURE] = "failure",
	[LEAD_EVENT_OPT_OUT] = "opt_out",
	[LEAD_EVENT_OPT_IN] = "opt_in",
	[LEAD_EVENT_BLOCK] = "block",
};

#define NKINDS ((int) (sizeof(kind_names) / sizeof(kind_names[0])))

double
lead_decay(double value, double dt_s, double half_life_s)
{
	if (dt_s <= 0 || !(half_life_s > 0))
		return value;
	return value * exp(-dt_s * M_LN2 / half_life_s);
}

void
lead_engagement_init(LeadEngagement *e, double half_life_s)
{
	memset(e, 0, sizeof(*e));
	e->as_of = LEAD_TIME_NEVER;
	e->half_life_s = half_life_s;
	e->first_at = LEAD_TIME_NEVER;
	e->last_inbound_at = LEAD_TIME_NEVER;
	e->last_outbound_at = LEAD_TIME_NEVER;
}

bool
lead_event_kind_parse(const char *s, LeadEventKind *out)
{
	for (int k = 0; s && k < NKINDS; k++)
		if (strcmp(s, kind_names[k]) == 0)
		{
			*out = (LeadEventKind) k;
			return true;
		}
	return false;
}

const char *
lead_event_kind_name(LeadEventKind k)
{
	return (int) k >= 0 && (int) k < NKINDS ? kind_names[k] : "unknown";
}

/*
 * 131049: Meta held a marketing message back because the person gets too
 * many (they are not reading them); 131026: undeliverable (blocked us, no
 * WhatsApp, old app).  Other failures are ours, not the lead's.
 */
bool
lead_failure_counts(int code)
{
	return code == 131049 || code == 131026;
}

static double
seconds(LeadTime dt)
{
	return (double) dt / (double) LEAD_SECOND;
}

/* Brings the decaying counts forward to at (never backward). */
static void
bring_forward(LeadEngagement *e, LeadTime at)
{
	double		f;

	if (e->as_of == LEAD_TIME_NEVER)
	{
		e->as_of = at;
		return;
	}
	if (at <= e->as_of)
		return;
	f = lead_decay(1.0, seconds(at - e->as_of), e->half_life_s);
	e->replies *= f;
	e->quick_replies *= f;
	e->reads *= f;
	e->taps *= f;
	e->failures *= f;
	e->as_of = at;
}

/* What one event at `at` adds to a count kept as of e->as_of. */
static double
weight_of(const LeadEngagement *e, LeadTime at)
{
	return at >= e->as_of ? 1.0 : lead_decay(1.0, seconds(e->as_of - at), e->half_life_s);
}

static LeadTime
later(LeadTime a, LeadTime b)
{
	return a == LEAD_TIME_NEVER || b > a ? b : a;
}

/*
 * A reply answers something we sent: the first message after our last one.
 * Messages nobody asked for (a greeting, a flood of "oi") and the second
 * message in a row are no reply: counting them let anyone who types a lot
 * look engaged.
 */
bool
lead_is_reply(LeadTime last_outbound_at, LeadTime last_inbound_at, LeadTime at)
{
	return last_outbound_at != LEAD_TIME_NEVER && last_outbound_at <= at &&
		(last_inbound_at == LEAD_TIME_NEVER || last_inbound_at < last_outbound_at);
}

static void
note_reply(LeadEngagement *e, LeadTime at, double w)
{
	if (lead_is_reply(e->last_outbound_at, e->last_inbound_at, at))
	{
		e->replies += w;
		if (at - e->last_outbound_at <= LEAD_QUICK_REPLY)
			e->quick_replies += w;
	}
	e->last_inbound_at = later(e->last_inbound_at, at);
}

void
lead_engagement_note(LeadEngagement *e, LeadEventKind kind, LeadTime at, int code)
{
	double		w;

	bring_forward(e, at);
	w = weight_of(e, at);
	if (e->first_at == LEAD_TIME_NEVER || at < e->first_at)
		e->first_at = at;
	switch (kind)
	{
		case LEAD_EVENT_TAP:
			e->taps += w;
			note_reply(e, at, w);
			break;
		case LEAD_EVENT_INBOUND:
			note_reply(e, at, w);
			break;
		case LEAD_EVENT_OUTBOUND:
			e->last_outbound_at = later(e->last_outbound_at, at);
			break;
		case LEAD_EVENT_READ:
			e->reads += w;
			break;
		case LEAD_EVENT_FAILURE:
			if (lead_failure_counts(code))
				e->failures += w;
			break;
		case LEAD_EVENT_OPT_OUT:
			e->opted_out = true;
			break;
		case LEAD_EVENT_OPT_IN:
			e->opted_out = false;
			break;
		case LEAD_EVENT_BLOCK:
			e->blocked = true;
			break;
	}
}

static void
put(LeadEntry *out, int *n, int idx, double v)
{
	if (v > 1e-4)
	{
		out[*n].idx = idx;
		out[(*n)++].val = (float) v;
	}
}

static int
silence_feature(LeadTime waited)
{
	if (waited >= 14 * LEAD_DAY)
		return LF_SILENT_14D;
	if (waited >= 7 * LEAD_DAY)
		return LF_SILENT_7D;
	if (waited >= 3 * LEAD_DAY)
		return LF_SILENT_3D;
	if (waited >= LEAD_DAY)
		return LF_SILENT_1D;
	return 0;
}

int
lead_engagement_features(const LeadEngagement *e, LeadTime now, LeadEntry *out)
{
	double		f = 1.0;
	int			n = 0;
	bool		waiting;

	if (e->as_of != LEAD_TIME_NEVER && now > e->as_of)
		f = lead_decay(1.0, seconds(now - e->as_of), e->half_life_s);
	put(out, &n, LF_ENG_REPLIES, log1p(e->replies * f));
	/* a count, not a share: one quick "não tenho interesse" is no evidence */
	put(out, &n, LF_ENG_QUICK, log1p(e->quick_replies * f));
	put(out, &n, LF_ENG_READS, log1p(e->reads * f));
	put(out, &n, LF_ENG_TAPS, log1p(e->taps * f));
	if (e->last_inbound_at == LEAD_TIME_NEVER && e->last_outbound_at != LEAD_TIME_NEVER)
		put(out, &n, LF_NEVER_REPLIED, 1.0);
	/* the ball is in their court: we wrote last */
	waiting = e->last_outbound_at != LEAD_TIME_NEVER &&
		(e->last_inbound_at == LEAD_TIME_NEVER || e->last_outbound_at > e->last_inbound_at);
	if (waiting && silence_feature(now - e->last_outbound_at))
		put(out, &n, silence_feature(now - e->last_outbound_at), 1.0);
	put(out, &n, LF_FAILURES, log1p(e->failures * f));
	if (e->opted_out)
		put(out, &n, LF_OPTED_OUT, 1.0);
	if (e->blocked)
		put(out, &n, LF_BLOCKED, 1.0);
	return n;
}
