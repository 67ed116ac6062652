/*
 * frequency_cap.c
 *		A sliding-window cap on sends per person and category.
 */
#include "frequency_cap.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define USEC INT64_C(1000000)

void
frequency_log_init(FrequencyLog *log)
{
	memset(log, 0, sizeof(*log));
}

void
frequency_log_record(FrequencyLog *log, int64_t at)
{
	int			i = FREQUENCY_LOG_SIZE - 1;

	if (at <= 0 || (log->at[i] != 0 && at <= log->at[i]))
		return;					/* older than everything kept: it can not matter */
	/* shift the older ones down, keeping newest first */
	while (i > 0 && (log->at[i - 1] == 0 || log->at[i - 1] < at))
	{
		log->at[i] = log->at[i - 1];
		i--;
	}
	log->at[i] = at;
}

void
frequency_log_merge(FrequencyLog *into, const FrequencyLog *from)
{
	for (int i = 0; i < FREQUENCY_LOG_SIZE && from->at[i] != 0; i++)
	{
		bool		held = false;

		for (int j = 0; j < FREQUENCY_LOG_SIZE; j++)
			held = held || into->at[j] == from->at[i];
		if (!held)
			frequency_log_record(into, from->at[i]);
	}
}

int
frequency_log_count(const FrequencyLog *log, int64_t window, int64_t now)
{
	int			n = 0;

	for (int i = 0; i < FREQUENCY_LOG_SIZE; i++)
		if (log->at[i] != 0 && log->at[i] > now - window && log->at[i] <= now)
			n++;
	return n;
}

int64_t
frequency_cap_ready_at(const FrequencyLog *log, const FrequencyCap *cap, int64_t now)
{
	int			seen = 0;

	if (cap->count <= 0 || frequency_log_count(log, cap->window, now) < cap->count)
		return now;
	/* the count-th newest send in the window is the one that must leave it */
	for (int i = 0; i < FREQUENCY_LOG_SIZE; i++)
	{
		if (log->at[i] == 0 || log->at[i] > now)
			continue;
		if (++seen == cap->count)
			return log->at[i] + cap->window;
	}
	return now;					/* can not happen: the count said otherwise */
}

static const char *
skip_spaces(const char *s)
{
	while (isspace((unsigned char) *s))
		s++;
	return s;
}

/* "7d", "12h", "30min", "90s": microseconds, or 0 when not understood. */
static int64_t
parse_window(const char *s, const char **end)
{
	static const struct
	{
		const char *unit;
		int64_t		us;
	}			units[] = {{"min", 60 * USEC}, {"s", USEC}, {"h", 3600 * USEC}, {"d", 86400 * USEC}};
	char	   *after;
	long		n = strtol(s, &after, 10);

	if (after == s || n <= 0 || n > 3660)
		return 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strncmp(after, units[i].unit, strlen(units[i].unit)) == 0)
		{
			*end = after + strlen(units[i].unit);
			return n * units[i].us;
		}
	return 0;
}

static bool
parse_one(const char **p, FrequencyCaps *out, const char **why)
{
	static const char *const names[CAP_CATEGORIES] = {"marketing", "utility"};
	const char *s = skip_spaces(*p);
	char	   *after;
	long		count;
	int			c;

	for (c = 0; c < CAP_CATEGORIES; c++)
		if (strncmp(s, names[c], strlen(names[c])) == 0 && s[strlen(names[c])] == '=')
			break;
	if (c == CAP_CATEGORIES)
	{
		*why = "Each cap starts with marketing= or utility=";
		return false;
	}
	s += strlen(names[c]) + 1;
	count = strtol(s, &after, 10);
	if (after == s || count < 1 || count > FREQUENCY_LOG_SIZE || *after != '/')
	{
		*why = "The count must be a whole number from 1 to 4, followed by /";
		return false;
	}
	out->cap[c].count = (int) count;
	out->cap[c].window = parse_window(after + 1, &s);
	if (out->cap[c].window == 0)
	{
		*why = "The window must be a whole number of s, min, h or d (at most 3660)";
		return false;
	}
	*p = skip_spaces(s);
	return true;
}

bool
frequency_caps_parse(const char *text, FrequencyCaps *out, const char **why)
{
	const char *p = skip_spaces(text ? text : "");

	memset(out, 0, sizeof(*out));
	while (*p != '\0')
	{
		if (!parse_one(&p, out, why))
			return false;
		if (*p == ',')
			p++;
		else if (*p != '\0')
		{
			*why = "Caps are separated by commas";
			return false;
		}
	}
	return true;
}
