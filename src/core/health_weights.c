/*
 * health_weights.c
 *		Reading the health score's weights from one setting:
 *		"spam_cap=50, quality_red=60".
 *
 * Every HealthWeights field may be named; fields not named keep their
 * defaults.  Weights are points or slopes and may not be negative; targets
 * are shares between 0 and 1.
 */
#include "health.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct WeightField
{
	const char *name;
	size_t		offset;
	char		kind;			/* 'd' points or slope, 't' target share, 'i' sample size */
} WeightField;

#define W(field, kind) {#field, offsetof(HealthWeights, field), kind}

static const WeightField fields[] = {
	W(quality_yellow, 'd'), W(quality_red, 'd'), W(quality_unknown, 'd'), W(quality_fell, 'd'),
	W(status_flagged, 'd'), W(status_rate_limited, 'd'), W(status_restricted, 'd'),
	W(status_gone, 'd'), W(status_not_ready, 'd'), W(status_unrecognised, 'd'),
	W(can_send_limited, 'd'), W(can_send_blocked, 'd'), W(error_min_sample, 'i'),
	W(spam_slope, 'd'), W(spam_cap, 'd'), W(spam_floor, 'd'), W(policy_each, 'd'),
	W(policy_cap, 'd'), W(throughput_slope, 'd'), W(throughput_cap, 'd'), W(pair_slope, 'd'),
	W(pair_cap, 'd'), W(marketing_cap_slope, 'd'), W(marketing_cap_cap, 'd'),
	W(undeliverable_slope, 'd'), W(undeliverable_cap, 'd'), W(recovery_half_life_s, 'd'),
	W(block_min_sample, 'i'), W(block_slope, 'd'), W(block_cap, 'd'), W(day_min_sample, 'i'),
	W(delivery_target, 't'), W(delivery_slope, 'd'), W(delivery_cap, 'd'), W(read_target, 't'),
	W(read_slope, 'd'), W(read_cap, 'd'), W(reply_target, 't'), W(reply_bonus, 'd'),
};

static const WeightField *
field_named(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == len && strncmp(fields[i].name, name, len) == 0)
			return &fields[i];
	return NULL;
}

static bool
set_field(HealthWeights *w, const WeightField *f, double v, char *err, size_t errlen)
{
	char	   *at = (char *) w + f->offset;

	if (!isfinite(v) || v < 0 || (f->kind == 't' && v > 1) || (f->kind == 'i' && v != floor(v)))
	{
		snprintf(err, errlen, "%s must be %s, not %g", f->name,
				 f->kind == 't' ? "a share between 0 and 1" :
				 f->kind == 'i' ? "a whole number of messages, 0 or more" : "0 or more", v);
		return false;
	}
	if (f->kind == 'i')
		*(int64_t *) at = (int64_t) v;
	else
		*(double *) at = v;
	return true;
}

/*
 * Apply "name=value[, name=value...]" to 'w'.  On a mistake, 'w' may be
 * partly changed, 'err' says what is wrong and false is returned.
 */
bool
health_weights_apply(HealthWeights *w, const char *spec, char *err, size_t errlen)
{
	const char *p = spec ? spec : "";

	for (;;)
	{
		const char *name;
		const WeightField *f;
		char	   *end;
		double		v;

		while (isspace((unsigned char) *p) || *p == ',')
			p++;
		if (*p == '\0')
			return true;
		name = p;
		while (isalnum((unsigned char) *p) || *p == '_')
			p++;
		f = field_named(name, (size_t) (p - name));
		if (f == NULL)
		{
			snprintf(err, errlen, "unknown weight \"%.*s\"", (int) strcspn(name, "=, "), name);
			return false;
		}
		while (isspace((unsigned char) *p))
			p++;
		if (*p++ != '=')
		{
			snprintf(err, errlen, "%s needs \"=value\"", f->name);
			return false;
		}
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0)
		{
			snprintf(err, errlen, "%s needs a number after \"=\"", f->name);
			return false;
		}
		if (!set_field(w, f, v, err, errlen))
			return false;
		p = end;
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '\0' && *p != ',')
		{
			snprintf(err, errlen, "expected \",\" after %s=%g", f->name, v);
			return false;
		}
	}
}
