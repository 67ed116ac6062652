/*
 * log.c — antiban-receiver: timestamped lines on stderr.
 *
 * No function here ever receives a secret: callers pass the path without
 * its query string, never the verify token, signature or body.
 */
#include "config.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

/* "2026-03-01T12:34:56.789Z", UTC so lines from several hosts sort. */
static size_t
format_timestamp(char *buf, size_t len)
{
	struct timespec now;
	struct tm	tm;
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(buf + n, len - n, ".%03ldZ ", now.tv_nsec / 1000000);
	return n;
}

/*
 * libpq and libmicrohttpd messages end in newlines and may span several:
 * fold them so every entry is exactly one line.  Returns the new length.
 */
static size_t
one_line(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	return n;
}

void
log_line(const char *fmt,...)
{
	char		buf[LOG_LINE_MAX];
	size_t		n = format_timestamp(buf, sizeof(buf));
	va_list		ap;
	int			m;

	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t) m < sizeof(buf) - n - 1 ? (size_t) m : sizeof(buf) - n - 2;
	n = one_line(buf, n);
	buf[n++] = '\n';
	/* stderr may be a closed pipe; nothing sensible to do about it */
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

void
log_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t		i = 0;

	for (; src && src[i] && i + 1 < dstlen; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}
