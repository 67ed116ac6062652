/*
 * util.c — allocation, clocks, logging and small string helpers.
 */
#include "sim.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;

/* Scripted "advance_ms" moves simulated time forward so that 24 h windows can
 * be tested in seconds; every window and timestamp adds this offset. */
static int64_t clock_offset_ms;

/* The simulator has no sensible way to continue without memory. */
static void
out_of_memory(void)
{
	fprintf(stderr, "antiban-sim: out of memory\n");
	abort();
}

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory();
	return q;
}

char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void
xfree_str(char **p)
{
	free(*p);
	*p = NULL;
}

/* Replace an owned string (NULL clears it). */
void
xset_str(char **p, const char *s)
{
	char	   *n = s ? xstrdup(s) : NULL;

	free(*p);
	*p = n;
}

static void
vlog(const char *fmt, va_list ap)
{
	char		line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "antiban-sim: %s\n", line);
}

void
sim_log(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
sim_debug(const char *fmt,...)
{
	va_list		ap;

	if (!sim_opts.verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic time for windows and buckets: immune to wall-clock jumps. */
int64_t
sim_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC) + __atomic_load_n(&clock_offset_ms, __ATOMIC_RELAXED);
}

/* Wall time for anything a test compares with its own clock. */
int64_t
sim_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME) + __atomic_load_n(&clock_offset_ms, __ATOMIC_RELAXED);
}

void
sim_clock_advance(int64_t ms)
{
	__atomic_add_fetch(&clock_offset_ms, ms, __ATOMIC_RELAXED);
}

int64_t
sim_clock_offset(void)
{
	return __atomic_load_n(&clock_offset_ms, __ATOMIC_RELAXED);
}

/* Meta's length limits count characters, not bytes.  Input was validated as
 * UTF-8 by the parser, so counting non-continuation bytes is enough. */
size_t
utf8_chars(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

/* splitmix64: tiny, fast and good enough for fault injection. */
uint64_t
rng_next(uint64_t *state)
{
	uint64_t	z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double
rng_double(uint64_t *state)
{
	return (double) (rng_next(state) >> 11) / (double) (1ULL << 53);
}

/* fbtrace_id only has to look like Meta's; a per-thread generator avoids
 * taking the lock (and keeps the fault RNG sequence deterministic). */
void
fbtrace_id(char out[24])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static __thread uint64_t state;
	uint64_t	r;

	if (state == 0)
		state = (uint64_t) clock_ms(CLOCK_MONOTONIC) ^ (uint64_t) (uintptr_t) &state;
	out[0] = 'A';
	r = rng_next(&state);
	for (int i = 1; i < 23; i++)
	{
		if (i == 11)
			r = rng_next(&state);
		out[i] = alphabet[r & 63];
		r >>= 6;
	}
	out[23] = '\0';
}

bool
ascii_upper_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (toupper((unsigned char) *a) != toupper((unsigned char) *b))
			return false;
	return *a == *b;
}

void
str_lower(char *dst, const char *src, size_t dstlen)
{
	size_t		i;

	for (i = 0; src[i] && i + 1 < dstlen; i++)
		dst[i] = (char) tolower((unsigned char) src[i]);
	dst[i] = '\0';
}

/* Copy the digits of src; returns how many digits src has (may exceed dstlen-1). */
size_t
digits_only(char *dst, const char *src, size_t dstlen)
{
	size_t		n = 0;

	for (; *src; src++)
		if (isdigit((unsigned char) *src))
		{
			if (n + 1 < dstlen)
				dst[n] = *src;
			n++;
		}
	dst[n + 1 < dstlen ? n : dstlen - 1] = '\0';
	return n;
}
