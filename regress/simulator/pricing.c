/*
 * pricing.c — see pricing.h.
 *
 * pricing_analytics follows Meta's shape (cloud-api.md section 7):
 * GET /{waba}?fields=pricing_analytics.start(S).end(E).granularity(G)
 * .dimensions([...]).metric_types([...]) answers data points grouped by the
 * requested dimensions (COUNTRY, PHONE, PRICING_CATEGORY, PRICING_TYPE,
 * TIER) per UTC bucket (HALF_HOUR, DAILY, MONTHLY).  A message counts when
 * it was accepted inside [S, E) and not scripted to fail; templates are
 * REGULAR in their category, other messages FREE_CUSTOMER_SERVICE SERVICE
 * (as the status webhooks say); cost is volume x the configured price.
 * The simulator has no volume tiers: TIER is "0:MAX" on regular points and
 * absent on free ones, as Meta omits it there.  All +1 numbers are "US".
 */
#include "pricing.h"
#include "ledger.h"
#include "sim.h"
#include "strmap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static strmap prices;			/* "BR/marketing" -> double* */

void
pricing_init(void)
{
	strmap_init(&prices);
}

void
pricing_clear(void)
{
	strmap_free(&prices, free);
}

void
pricing_set(const char *country, const char *category, double price)
{
	char		key[64];
	bool		created;
	void	  **slot;

	snprintf(key, sizeof(key), "%s/%s", country, category);
	slot = strmap_put(&prices, key, &created);
	if (created)
		*slot = xmalloc(sizeof(double));
	*(double *) *slot = price;
}

static double
price_of(const char *country, const char *category)
{
	char		key[64];
	double	   *p;

	snprintf(key, sizeof(key), "%s/%s", country, category);
	if ((p = strmap_get(&prices, key)))
		return *p;
	snprintf(key, sizeof(key), "*/%s", category);
	return (p = strmap_get(&prices, key)) ? *p : 0;
}

/* A few calling codes, longest first where they overlap. */
static const char *const codes[][2] = {
	{"234", "NG"}, {"254", "KE"}, {"351", "PT"}, {"353", "IE"}, {"380", "UA"}, {"591", "BO"},
	{"593", "EC"}, {"595", "PY"}, {"598", "UY"}, {"880", "BD"}, {"966", "SA"}, {"971", "AE"},
	{"972", "IL"}, {"20", "EG"}, {"27", "ZA"}, {"30", "GR"}, {"31", "NL"}, {"32", "BE"},
	{"33", "FR"}, {"34", "ES"}, {"39", "IT"}, {"40", "RO"}, {"41", "CH"}, {"44", "GB"},
	{"45", "DK"}, {"46", "SE"}, {"47", "NO"}, {"48", "PL"}, {"49", "DE"}, {"51", "PE"},
	{"52", "MX"}, {"54", "AR"}, {"55", "BR"}, {"56", "CL"}, {"57", "CO"}, {"58", "VE"},
	{"60", "MY"}, {"61", "AU"}, {"62", "ID"}, {"63", "PH"}, {"64", "NZ"}, {"65", "SG"},
	{"66", "TH"}, {"81", "JP"}, {"82", "KR"}, {"84", "VN"}, {"86", "CN"}, {"90", "TR"},
	{"91", "IN"}, {"92", "PK"}, {"1", "US"}, {"7", "RU"},
};

const char *
pricing_country(const char *digits)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncmp(digits, codes[i][0], strlen(codes[i][0])) == 0)
			return codes[i][1];
	return "ZZ";
}

/* ---- the query --------------------------------------------------------- */

typedef struct analytics_query
{
	long long	start;
	long long	end;
	long long	step;			/* seconds; 0: calendar months */
	bool		country,
				phone,
				category,
				type,
				tier;
	bool		cost,
				volume;
} analytics_query;

/* The text inside "name(...)" after "pricing_analytics", or NULL. */
static const char *
modifier(const char *fields, const char *name, char *out, size_t size)
{
	char		pattern[48];
	const char *p = strstr(fields, "pricing_analytics");
	const char *q;
	size_t		n;

	snprintf(pattern, sizeof(pattern), ".%s(", name);
	if (!p || !(p = strstr(p, pattern)))
		return NULL;
	p += strlen(pattern);
	if (!(q = strchr(p, ')')) || (n = (size_t) (q - p)) >= size)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static bool
parse_query(const char *fields, analytics_query *q, const char **err)
{
	char		v[256];

	memset(q, 0, sizeof(*q));
	if (!modifier(fields, "start", v, sizeof(v)) || (q->start = atoll(v)) <= 0 ||
		!modifier(fields, "end", v, sizeof(v)) || (q->end = atoll(v)) <= q->start)
		return (*err = "pricing_analytics needs start(unix) and end(unix), end after start"), false;
	if (!modifier(fields, "granularity", v, sizeof(v)))
		return (*err = "pricing_analytics needs granularity(HALF_HOUR|DAILY|MONTHLY)"), false;
	if (strcmp(v, "HALF_HOUR") == 0)
		q->step = 1800;
	else if (strcmp(v, "DAILY") == 0)
		q->step = 86400;
	else if (strcmp(v, "MONTHLY") != 0)
		return (*err = "granularity must be HALF_HOUR, DAILY or MONTHLY"), false;
	if (modifier(fields, "dimensions", v, sizeof(v)))
	{
		q->country = strstr(v, "COUNTRY") != NULL;
		q->phone = strstr(v, "PHONE") != NULL;
		q->category = strstr(v, "PRICING_CATEGORY") != NULL;
		q->type = strstr(v, "PRICING_TYPE") != NULL;
		/* Meta: TIER only together with COUNTRY and PRICING_CATEGORY */
		q->tier = strstr(v, "TIER") != NULL && q->country && q->category;
	}
	q->cost = q->volume = true;
	if (modifier(fields, "metric_types", v, sizeof(v)))
	{
		q->cost = strstr(v, "COST") != NULL;
		q->volume = strstr(v, "VOLUME") != NULL;
	}
	return true;
}

/* The UTC bucket holding second t. */
static long long
bucket_of(const analytics_query *q, long long t, long long *end)
{
	struct tm	tm;
	time_t		tt = (time_t) t;
	long long	start;

	if (q->step)
	{
		start = t - ((t % q->step) + q->step) % q->step;
		*end = start + q->step;
		return start;
	}
	gmtime_r(&tt, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	start = (long long) timegm(&tm);
	tm.tm_mon++;
	*end = (long long) timegm(&tm);
	return start;
}

/* ---- grouping ---------------------------------------------------------- */

typedef struct point
{
	long long	start,
				end;
	char		country[4];
	char		phone[32];
	char		category[32];
	const char *type;
	const char *tier;
	long long	volume;
	double		cost;
} point;

typedef struct walk
{
	const analytics_query *q;
	const char *waba;
	strmap		points;			/* group key -> point* */
} walk;

static void
upper(char *dst, const char *src, size_t size)
{
	size_t		i = 0;

	for (; src[i] && i + 1 < size; i++)
		dst[i] = (char) toupper((unsigned char) src[i]);
	dst[i] = '\0';
}

static void
count_message(const sim_msg *m, void *arg)
{
	walk	   *w = arg;
	long long	t = m->accepted_ms / 1000;
	bool		regular = m->template_name != NULL;
	point		p = {0};
	char		key[160];
	bool		created;
	void	  **slot;

	if (m->fail_code || strcmp(m->waba_id, w->waba) != 0 || t < w->q->start || t >= w->q->end)
		return;
	p.start = bucket_of(w->q, t, &p.end);
	if (w->q->country)
		snprintf(p.country, sizeof(p.country), "%s", m->is_bsuid ? "ZZ" : pricing_country(m->recipient));
	if (w->q->phone)
		snprintf(p.phone, sizeof(p.phone), "%s", m->display);
	if (w->q->category)
		upper(p.category, m->category, sizeof(p.category));
	p.type = w->q->type ? (regular ? "REGULAR" : "FREE_CUSTOMER_SERVICE") : NULL;
	p.tier = w->q->tier && regular ? "0:MAX" : NULL;
	snprintf(key, sizeof(key), "%lld|%s|%s|%s|%s|%s", p.start, p.country, p.phone, p.category,
			 p.type ? p.type : "", p.tier ? p.tier : "");
	slot = strmap_put(&w->points, key, &created);
	if (created)
	{
		*slot = xmalloc(sizeof(point));
		*(point *) *slot = p;
	}
	((point *) *slot)->volume++;
	if (regular)				/* free messages cost nothing */
		((point *) *slot)->cost += price_of(m->is_bsuid ? "ZZ" : pricing_country(m->recipient), m->category);
}

static void
write_point(sbuf *b, const analytics_query *q, const point *p)
{
	sbuf_printf(b, "{\"start\":%lld,\"end\":%lld", p->start, p->end);
	if (q->phone)
	{
		sbuf_puts(b, ",\"phone_number\":");
		sbuf_json_str(b, p->phone);
	}
	if (q->country)
		sbuf_printf(b, ",\"country\":\"%s\"", p->country);
	if (p->tier)
		sbuf_printf(b, ",\"tier\":\"%s\"", p->tier);
	if (p->type)
		sbuf_printf(b, ",\"pricing_type\":\"%s\"", p->type);
	if (q->category)
		sbuf_printf(b, ",\"pricing_category\":\"%s\"", p->category);
	if (q->volume)
		sbuf_printf(b, ",\"volume\":%lld", p->volume);
	if (q->cost)
		sbuf_printf(b, ",\"cost\":%.6f", p->cost);
	sbuf_putc(b, '}');
}

bool
pricing_analytics(sbuf *b, const char *waba_id, const char *fields, const char **err)
{
	analytics_query q;
	walk		w;
	const char **keys;

	if (!parse_query(fields ? fields : "", &q, err))
		return false;
	w.q = &q;
	w.waba = waba_id;
	strmap_init(&w.points);
	ledger_each(count_message, &w);
	keys = strmap_sorted_keys(&w.points);
	sbuf_puts(b, "{\"data\":[{\"data_points\":[");
	for (size_t i = 0; keys[i]; i++)
	{
		if (i)
			sbuf_putc(b, ',');
		write_point(b, &q, strmap_get(&w.points, keys[i]));
	}
	sbuf_puts(b, "]}]}");
	free(keys);
	strmap_free(&w.points, free);
	return true;
}
