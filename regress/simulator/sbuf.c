/*
 * sbuf.c — see sbuf.h.
 */
#include "sbuf.h"
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sbuf_init(sbuf *b, size_t cap)
{
	b->cap = cap < 64 ? 64 : cap;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
}

void
sbuf_free(sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
sbuf_reserve(sbuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	while (b->len + extra + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
sbuf_put(sbuf *b, const char *s, size_t n)
{
	sbuf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
sbuf_puts(sbuf *b, const char *s)
{
	sbuf_put(b, s, strlen(s));
}

void
sbuf_putc(sbuf *b, char c)
{
	sbuf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
sbuf_printf(sbuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= b->cap - b->len)
	{
		sbuf_reserve(b, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}

/* Decode one UTF-8 sequence; returns its length, or 0 if malformed. */
static int
utf8_decode(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0xE0 && (s[1] & 0xC0) == 0x80 && s[0] >= 0xC2)
	{
		*cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
		return 2;
	}
	if (s[0] >= 0xE0 && s[0] < 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80)
	{
		*cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
		return *cp >= 0x800 ? 3 : 0;
	}
	if (s[0] >= 0xF0 && s[0] < 0xF5 && (s[1] & 0xC0) == 0x80 &&
		(s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80)
	{
		*cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) |
			((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
		return (*cp >= 0x10000 && *cp <= 0x10FFFF) ? 4 : 0;
	}
	return 0;
}

static void
put_u16(sbuf *b, unsigned u)
{
	sbuf_printf(b, "\\u%04x", u & 0xFFFF);
}

/* One non-ASCII character as \uXXXX (a surrogate pair above the BMP). */
static const unsigned char *
escape_non_ascii(sbuf *b, const unsigned char *p)
{
	unsigned	cp;
	int			n = utf8_decode(p, &cp);

	if (n == 0)
	{
		put_u16(b, 0xFFFD);
		return p + 1;
	}
	if (cp >= 0x10000)
	{
		cp -= 0x10000;
		put_u16(b, 0xD800 | (cp >> 10));
		put_u16(b, 0xDC00 | (cp & 0x3FF));
	}
	else
		put_u16(b, cp);
	return p + n;
}

/*
 * Graph escapes "/" as "\/" and every non-ASCII character as \uXXXX.  We do
 * the same so receivers are tested against Meta's byte layout (and so a
 * receiver that re-serialises before checking the signature fails here too).
 */
void
sbuf_json_str(sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	sbuf_putc(b, '"');
	while (*p)
	{
		const unsigned char *run = p;

		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\' && *p != '/')
			p++;
		if (p > run)
			sbuf_put(b, (const char *) run, (size_t) (p - run));
		if (!*p)
			break;
		if (*p >= 0x80)
		{
			p = escape_non_ascii(b, p);
			continue;
		}
		switch (*p)
		{
			case '"':
				sbuf_put(b, "\\\"", 2);
				break;
			case '\\':
				sbuf_put(b, "\\\\", 2);
				break;
			case '/':
				sbuf_put(b, "\\/", 2);
				break;
			case '\n':
				sbuf_put(b, "\\n", 2);
				break;
			case '\r':
				sbuf_put(b, "\\r", 2);
				break;
			case '\t':
				sbuf_put(b, "\\t", 2);
				break;
			default:
				put_u16(b, *p);
				break;
		}
		p++;
	}
	sbuf_putc(b, '"');
}

void
sbuf_json_key(sbuf *b, const char *key, int *first)
{
	if (!*first)
		sbuf_putc(b, ',');
	*first = 0;
	sbuf_json_str(b, key);
	sbuf_putc(b, ':');
}

void
sbuf_tsv_field(sbuf *b, const char *s)
{
	if (!s || !*s)
	{
		sbuf_putc(b, '-');
		return;
	}
	for (; *s; s++)
	{
		if (*s == '\t')
			sbuf_put(b, "\\t", 2);
		else if (*s == '\n')
			sbuf_put(b, "\\n", 2);
		else if (*s == '\r')
			sbuf_put(b, "\\r", 2);
		else if (*s == '\\')
			sbuf_put(b, "\\\\", 2);
		else
			sbuf_putc(b, *s);
	}
}

char *
sbuf_steal(sbuf *b, size_t *len)
{
	char	   *d = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
