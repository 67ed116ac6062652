/*
 * health.c
 *		The health score of a sending number.
 *
 * score = clamp(100 + the sum of the terms, 0, 100).  Each term is rounded to
 * whole points on its own and listed (in this order) only when it is not 0.
 * Every number below is a HealthWeights field; these are the defaults.
 *
 * | signal               | points                                        | counted when                            |
 * |----------------------|-----------------------------------------------|-----------------------------------------|
 * | quality              | YELLOW −20, RED −50, NA/UNKNOWN −5            | always                                  |
 * | quality_trend        | −10                                           | the rating fell (GREEN > YELLOW > RED)  |
 * | status               | FLAGGED −30, RATE_LIMITED −20, RESTRICTED −60,| Meta's phone status, any case;          |
 * |                      | BANNED/DISCONNECTED/DELETED −100,             | CONNECTED or none: 0                    |
 * |                      | PENDING/UNVERIFIED/MIGRATED/UNKNOWN/OFFLINE   |                                         |
 * |                      | −10, any other text −10                       |                                         |
 * | can_send             | LIMITED −25, BLOCKED −100                     | health_status.can_send_message          |
 * | spam_errors *        | −min(40, 400 × r), at least −15               | 131048, 471 in the recent window        |
 * | policy_errors *      | −60 each, at most −100                        | 368, 131031 in the recent window        |
 * | throughput_errors *  | −min(15, 100 × r)                             | 130429 in the recent window             |
 * | pair_errors *        | −min(10, 50 × r)                              | 131056 in the recent window             |
 * | marketing_cap_errors*| −min(10, 50 × r)                              | 131049 in the recent window             |
 * | undeliverable_errors*| −min(15, 100 × r)                             | 131026 in the recent window             |
 * | block_rate *         | −min(30, 1000 × b): 2 % costs 20              | blocks, opt-outs, 131050 in the last day|
 * | delivery_rate        | −min(20, (0.90 − d) × 100) when d < 0.90      | at least 50 sends in the last day       |
 * | read_rate            | −min(10, (0.30 − q) × 50) when q < 0.30       | at least 50 deliveries in the last day  |
 * | reply_rate           | +5 when p ≥ 0.10                              | at least 50 deliveries in the last day  |
 *
 * r = errors / max(recent sends, 20), so a few errors on a quiet number still
 * count; b = blocks / max(sends, 50) over the last day; d = delivered / sent,
 * q = read / delivered, p = replied / delivered, all over the last day.
 *
 * (*) Recovery: these penalties are multiplied by 0.5^(t / 1800 s), t being
 * the seconds since the last bad event (0 or unknown: × 1): an error whose
 * counter restarts recovery (spam, policy, throughput, undeliverable, blocks;
 * not the pair rate nor the per-user marketing cap, which say more about the
 * recipient than the number), or an opt-out.  While nothing new
 * goes wrong health comes back by itself: half the penalty after 30 min, a
 * sixteenth after 2 h.  Meta's own signals (quality, status, can_send) are not
 * decayed: they clear when Meta says so.
 */
#include "health.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const quality_names[] = {
	[QUALITY_UNKNOWN] = "UNKNOWN",
	[QUALITY_GREEN] = "GREEN",
	[QUALITY_YELLOW] = "YELLOW",
	[QUALITY_RED] = "RED",
};

static const char *const counter_names[] = {
	[HEALTH_COUNTER_NONE] = "none",
	[HEALTH_COUNTER_SPAM] = "spam",
	[HEALTH_COUNTER_POLICY] = "policy",
	[HEALTH_COUNTER_THROUGHPUT] = "throughput",
	[HEALTH_COUNTER_PAIR] = "pair",
	[HEALTH_COUNTER_MARKETING_CAP] = "marketing_cap",
	[HEALTH_COUNTER_UNDELIVERABLE] = "undeliverable",
	[HEALTH_COUNTER_BLOCKS] = "blocks",
};

static const char *const capability_names[] = {
	[CAN_SEND_AVAILABLE] = "AVAILABLE",
	[CAN_SEND_LIMITED] = "LIMITED",
	[CAN_SEND_BLOCKED] = "BLOCKED",
};

/* Meta's phone statuses other than CONNECTED, and the weight each costs. */
typedef struct StatusPenalty
{
	const char *name;
	size_t		weight;			/* offset of a double in HealthWeights */
} StatusPenalty;

static const StatusPenalty status_penalties[] = {
	{"FLAGGED", offsetof(HealthWeights, status_flagged)},
	{"RATE_LIMITED", offsetof(HealthWeights, status_rate_limited)},
	{"RESTRICTED", offsetof(HealthWeights, status_restricted)},
	{"BANNED", offsetof(HealthWeights, status_gone)},
	{"DISCONNECTED", offsetof(HealthWeights, status_gone)},
	{"DELETED", offsetof(HealthWeights, status_gone)},
	{"PENDING", offsetof(HealthWeights, status_not_ready)},
	{"UNVERIFIED", offsetof(HealthWeights, status_not_ready)},
	{"MIGRATED", offsetof(HealthWeights, status_not_ready)},
	{"UNKNOWN", offsetof(HealthWeights, status_not_ready)},
	{"OFFLINE", offsetof(HealthWeights, status_not_ready)},
};

HealthWeights
health_weights_default(void)
{
	return (HealthWeights) {
		.quality_yellow = 20,
		.quality_red = 50,
		.quality_unknown = 5,
		.quality_fell = 10,
		.status_flagged = 30,
		.status_rate_limited = 20,
		.status_restricted = 60,
		.status_gone = 100,
		.status_not_ready = 10,
		.status_unrecognised = 10,
		.can_send_limited = 25,
		.can_send_blocked = 100,
		.error_min_sample = 20,
		.spam_slope = 400,
		.spam_cap = 40,
		.spam_floor = 15,
		.policy_each = 60,
		.policy_cap = 100,
		.throughput_slope = 100,
		.throughput_cap = 15,
		.pair_slope = 50,
		.pair_cap = 10,
		.marketing_cap_slope = 50,
		.marketing_cap_cap = 10,
		.undeliverable_slope = 100,
		.undeliverable_cap = 15,
		.recovery_half_life_s = 1800,
		.block_min_sample = 50,
		.block_slope = 1000,
		.block_cap = 30,
		.day_min_sample = 50,
		.delivery_target = 0.90,
		.delivery_slope = 100,
		.delivery_cap = 20,
		.read_target = 0.30,
		.read_slope = 50,
		.read_cap = 10,
		.reply_target = 0.10,
		.reply_bonus = 5,
	};
}

static bool
find_name(const char *s, const char *const *names, int n, int *out)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (strcasecmp(s, names[i]) == 0)
		{
			*out = i;
			return true;
		}
	}
	return false;
}

/* Meta's quality_rating; NA means "not rated yet", as UNKNOWN does. */
bool
quality_rating_parse(const char *s, QualityRating *out)
{
	int			i;

	if (s != NULL && strcasecmp(s, "NA") == 0)
	{
		*out = QUALITY_UNKNOWN;
		return true;
	}
	if (!find_name(s, quality_names, 4, &i))
		return false;
	*out = (QualityRating) i;
	return true;
}

const char *
quality_rating_name(QualityRating q)
{
	return (unsigned) q < 4 ? quality_names[q] : "UNKNOWN";
}

bool
send_capability_parse(const char *s, SendCapability *out)
{
	int			i;

	if (!find_name(s, capability_names, 3, &i))
		return false;
	*out = (SendCapability) i;
	return true;
}

const char *
health_counter_name(HealthCounter c)
{
	return (unsigned) c < HEALTH_COUNTERS ? counter_names[c] : "none";
}

bool
health_counter_parse(const char *s, HealthCounter *out)
{
	int			i;

	if (!find_name(s, counter_names, HEALTH_COUNTERS, &i))
		return false;
	*out = (HealthCounter) i;
	return true;
}

/* Does a new error of this counter restart the fading of the penalties? */
bool
health_counter_restarts_recovery(HealthCounter c)
{
	return c != HEALTH_COUNTER_NONE && c != HEALTH_COUNTER_PAIR &&
		c != HEALTH_COUNTER_MARKETING_CAP;
}

const char *
send_capability_name(SendCapability c)
{
	return (unsigned) c < 3 ? capability_names[c] : "AVAILABLE";
}

/* Whole points; a NaN weight (or worse) costs nothing rather than everything. */
static int
whole_points(double v)
{
	if (isnan(v))
		return 0;
	return (int) round(fmax(-1000.0, fmin(1000.0, v)));
}

static int64_t
count(int64_t v)
{
	return v > 0 ? v : 0;
}

/* What one scoring run needs besides the output. */
typedef struct Scorer
{
	HealthScore *out;
	const HealthWeights *w;
	double		decay;			/* recovery factor of error and block terms */
	char		decay_note[80];	/* "" when decay is 1 */
} Scorer;

/* Record a term when it is worth a whole point; 'why' is printf-style. */
static void add_term_v(HealthScore *out, const char *signal, double points,
					   const char *note, const char *fmt, va_list ap)
			__attribute__((format(printf, 5, 0)));
static void
add_term_v(HealthScore *out, const char *signal, double points,
		   const char *note, const char *fmt, va_list ap)
{
	int			p = whole_points(points);
	HealthTerm *t;
	size_t		len;

	if (p == 0 || out->nterms >= HEALTH_MAX_TERMS)
		return;
	t = &out->terms[out->nterms++];
	t->signal = signal;
	t->points = p;
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	len = strlen(t->why);
	snprintf(t->why + len, sizeof(t->why) - len, "%s", note);
}

static void add_term(Scorer *sc, const char *signal, double points,
					 const char *fmt,...) __attribute__((format(printf, 4, 5)));
static void
add_term(Scorer *sc, const char *signal, double points, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	add_term_v(sc->out, signal, points, "", fmt, ap);
	va_end(ap);
}

/* A penalty that fades while nothing new goes wrong. */
static void add_decayed(Scorer *sc, const char *signal, double penalty,
						const char *fmt,...) __attribute__((format(printf, 4, 5)));
static void
add_decayed(Scorer *sc, const char *signal, double penalty, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	add_term_v(sc->out, signal, -penalty * sc->decay, sc->decay_note, fmt, ap);
	va_end(ap);
}

static void
set_decay(Scorer *sc, int64_t seconds)
{
	double		half_life = sc->w->recovery_half_life_s;

	sc->decay = 1.0;
	sc->decay_note[0] = '\0';
	if (seconds <= 0 || !(half_life > 0))
		return;
	sc->decay = pow(0.5, (double) seconds / half_life);
	snprintf(sc->decay_note, sizeof(sc->decay_note),
			 "; faded to %.0f %% over %lld min",
			 sc->decay * 100, (long long) (seconds / 60));
}

/* A count over a sample of at least 'min' sends, and how to say so. */
static double
rate_of(int64_t n, int64_t sent, int64_t min, char *note, size_t size)
{
	int64_t		sample = sent > min ? sent : min;

	note[0] = '\0';
	if (sent < min)
		snprintf(note, size, ", counted as %lld", (long long) min);
	return (double) n / (double) (sample > 0 ? sample : 1);
}

static int
quality_rank(QualityRating q)
{
	switch (q)
	{
		case QUALITY_GREEN:
			return 3;
		case QUALITY_YELLOW:
			return 2;
		case QUALITY_RED:
			return 1;
		default:
			return 0;
	}
}

static void
score_quality(Scorer *sc, const HealthSignals *s)
{
	const HealthWeights *w = sc->w;
	int			now = quality_rank(s->quality);
	int			before = quality_rank(s->previous_quality);

	if (s->quality == QUALITY_YELLOW)
		add_term(sc, "quality", -w->quality_yellow, "quality YELLOW");
	else if (s->quality == QUALITY_RED)
		add_term(sc, "quality", -w->quality_red, "quality RED");
	else if (now == 0)
		add_term(sc, "quality", -w->quality_unknown, "quality not rated yet (UNKNOWN)");
	if (now > 0 && before > now)
		add_term(sc, "quality_trend", -w->quality_fell, "quality fell from %s to %s",
				 quality_rating_name(s->previous_quality), quality_rating_name(s->quality));
}

static void
score_status(Scorer *sc, const char *status)
{
	if (status == NULL || strcasecmp(status, "CONNECTED") == 0)
		return;
	for (size_t i = 0; i < sizeof(status_penalties) / sizeof(status_penalties[0]); i++)
	{
		if (strcasecmp(status, status_penalties[i].name) == 0)
		{
			const double *weight = (const double *) ((const char *) sc->w + status_penalties[i].weight);

			add_term(sc, "status", -*weight, "status %s", status_penalties[i].name);
			return;
		}
	}
	add_term(sc, "status", -sc->w->status_unrecognised,
			 "status %.40s, which antiban does not know", status);
}

static void
score_can_send(Scorer *sc, SendCapability c)
{
	if (c == CAN_SEND_LIMITED)
		add_term(sc, "can_send", -sc->w->can_send_limited, "Meta says LIMITED");
	else if (c == CAN_SEND_BLOCKED)
		add_term(sc, "can_send", -sc->w->can_send_blocked, "Meta says BLOCKED");
}

/* An error code whose cost grows with its share of the recent sends. */
typedef struct RateTerm
{
	const char *signal;
	const char *what;			/* the code and its meaning */
	int64_t		errors;
	double		slope;
	double		cap;
	double		floor;			/* the least one occurrence costs */
} RateTerm;

static void
score_rate_term(Scorer *sc, int64_t sent, const RateTerm *t)
{
	char		note[40];
	double		rate;

	if (t->errors == 0)
		return;
	rate = rate_of(t->errors, sent, sc->w->error_min_sample, note, sizeof(note));
	add_decayed(sc, t->signal, fmax(t->floor, fmin(t->cap, t->slope * rate)),
				"%lld × %s in %lld recent sends%s",
				(long long) t->errors, t->what, (long long) sent, note);
}

static void
score_errors(Scorer *sc, const HealthSignals *s)
{
	const HealthWeights *w = sc->w;
	int64_t		sent = count(s->sent_recent);
	int64_t		policy = count(s->policy_errors);
	const RateTerm spam = {"spam_errors", "131048 (spam rate limit)",
	count(s->spam_errors), w->spam_slope, w->spam_cap, w->spam_floor};
	const RateTerm others[] = {
		{"throughput_errors", "130429 (throughput limit)",
		count(s->throughput_errors), w->throughput_slope, w->throughput_cap, 0},
		{"pair_errors", "131056 (pair rate limit)",
		count(s->pair_errors), w->pair_slope, w->pair_cap, 0},
		{"marketing_cap_errors", "131049 (per-user marketing cap)",
		count(s->marketing_cap_errors), w->marketing_cap_slope, w->marketing_cap_cap, 0},
		{"undeliverable_errors", "131026 (undeliverable)",
		count(s->undeliverable_errors), w->undeliverable_slope, w->undeliverable_cap, 0},
	};

	score_rate_term(sc, sent, &spam);
	if (policy > 0)
		add_decayed(sc, "policy_errors", fmin(w->policy_cap, w->policy_each * (double) policy),
					"%lld × 368/131031 (policy block) in the recent window", (long long) policy);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		score_rate_term(sc, sent, &others[i]);
}

static void
score_day(Scorer *sc, const HealthSignals *s)
{
	const HealthWeights *w = sc->w;
	int64_t		sent = count(s->sent_day);
	int64_t		delivered = count(s->delivered_day);
	int64_t		blocks = count(s->blocks_day);
	char		note[40];

	if (blocks > 0)
	{
		double		b = rate_of(blocks, sent, w->block_min_sample, note, sizeof(note));

		add_decayed(sc, "block_rate", fmin(w->block_cap, w->block_slope * b),
					"%.1f %% of the last day's recipients blocked or opted out (%lld of %lld sent%s)",
					b * 100, (long long) blocks, (long long) sent, note);
	}
	if (sent > 0 && sent >= w->day_min_sample)
	{
		double		d = (double) delivered / (double) sent;

		if (d < w->delivery_target)
			add_term(sc, "delivery_rate", -fmin(w->delivery_cap, (w->delivery_target - d) * w->delivery_slope),
					 "%.0f %% of the last day's %lld sends delivered (target %.0f %%)",
					 d * 100, (long long) sent, w->delivery_target * 100);
	}
	if (delivered > 0 && delivered >= w->day_min_sample)
	{
		double		q = (double) count(s->read_day) / (double) delivered;
		double		p = (double) count(s->replied_day) / (double) delivered;

		if (q < w->read_target)
			add_term(sc, "read_rate", -fmin(w->read_cap, (w->read_target - q) * w->read_slope),
					 "%.0f %% of the last day's %lld deliveries read (target %.0f %%)",
					 q * 100, (long long) delivered, w->read_target * 100);
		if (p >= w->reply_target)
			add_term(sc, "reply_rate", w->reply_bonus,
					 "%.0f %% of the last day's %lld deliveries got a reply",
					 p * 100, (long long) delivered);
	}
}

/*
 * Score 's' with weights 'w' into 'out': the score and the terms behind it.
 * Negative counts count as 0; nothing is allocated.
 */
void
health_score(const HealthSignals *s, const HealthWeights *w, HealthScore *out)
{
	Scorer		sc = {.out = out, .w = w};
	int			total = 100;

	out->nterms = 0;
	set_decay(&sc, s->seconds_since_bad_event);
	score_quality(&sc, s);
	score_status(&sc, s->status);
	score_can_send(&sc, s->can_send);
	score_errors(&sc, s);
	score_day(&sc, s);
	for (int i = 0; i < out->nterms; i++)
		total += out->terms[i].points;
	out->score = total < 0 ? 0 : total > 100 ? 100 : total;
}
