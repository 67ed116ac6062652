/*
 * strbuf.c — antiban-receiver: a growable text buffer.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
reserve(strbuf *sb, size_t more)
{
	size_t		want;
	char	   *grown;

	if (sb->failed)
		return false;
	want = sb->len + more + 1;
	if (want <= sb->cap)
		return true;
	want = want < 2 * sb->cap ? 2 * sb->cap : want;
	if (want < 4096)
		want = 4096;
	if (!(grown = realloc(sb->data, want)))
	{
		sb->failed = true;
		return false;
	}
	sb->data = grown;
	sb->cap = want;
	return true;
}

void
sb_append(strbuf *sb, const char *text, size_t len)
{
	if (!reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, text, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
sb_puts(strbuf *sb, const char *text)
{
	sb_append(sb, text, strlen(text));
}

void
sb_printf(strbuf *sb, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(sb, (size_t) n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t) n;
}

void
sb_free(strbuf *sb)
{
	free(sb->data);
	memset(sb, 0, sizeof(*sb));
}
