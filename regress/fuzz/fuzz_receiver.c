/*
 * fuzz_receiver.c
 *		libFuzzer harness for the bytes antiban-receiver reads from a client
 *		before the database sees anything (src/receiver/body.c,
 *		text_param.c, log.c's log_sanitize).
 *
 * Input: a first byte that picks --max-body (small limits reach the 413
 * paths), then lines: Content-Length header, X-Hub-Signature-256 header,
 * hub.verify_token, request path; the rest is the body, handed over in
 * chunks whose sizes the first bytes also pick, as libmicrohttpd would.
 * Checked: a kept body is exactly the bytes sent and never beyond the
 * limit, a body over it is dropped and flagged, an accepted text
 * parameter is valid UTF-8 (checked against RFC 3629's table, written
 * apart) without control characters and within MAX_TEXT_PARAM bytes, and
 * the log never gets a byte it should not print.
 */
#include "receiver/body.h"
#include "receiver/config.h"
#include "receiver/log.h"
#include "receiver/text_param.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, what) do { if (!(cond)) { fprintf(stderr, "receiver: %s\n", what); abort(); } } while (0)

/* The next line of the input (without its "\n"), as a C string. */
static char *
next_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t) (end - *p));
	size_t		n = (nl ? nl : end) - *p;
	char	   *s = malloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nl != NULL);
	return s;
}

/* RFC 3629 section 4, byte ranges of each well-formed sequence. */
static int
utf8_reference(const unsigned char *s)
{
	static const struct
	{
		unsigned char lo[4],
					hi[4];
		int			n;
	}			forms[] = {
		{{0x00}, {0x7f}, 1},
		{{0xc2, 0x80}, {0xdf, 0xbf}, 2},
		{{0xe0, 0xa0, 0x80}, {0xe0, 0xbf, 0xbf}, 3},
		{{0xe1, 0x80, 0x80}, {0xec, 0xbf, 0xbf}, 3},
		{{0xed, 0x80, 0x80}, {0xed, 0x9f, 0xbf}, 3},
		{{0xee, 0x80, 0x80}, {0xef, 0xbf, 0xbf}, 3},
		{{0xf0, 0x90, 0x80, 0x80}, {0xf0, 0xbf, 0xbf, 0xbf}, 4},
		{{0xf1, 0x80, 0x80, 0x80}, {0xf3, 0xbf, 0xbf, 0xbf}, 4},
		{{0xf4, 0x80, 0x80, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}, 4},
	};

	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
	{
		int			i = 0;

		while (i < forms[f].n && s[i] >= forms[f].lo[i] && s[i] <= forms[f].hi[i])
			i++;
		if (i == forms[f].n)
			return i;
	}
	return 0;
}

static bool
text_param_reference(const char *str)
{
	const unsigned char *s = (const unsigned char *) str;

	if (*s == '\0' || strlen(str) > MAX_TEXT_PARAM)
		return false;
	while (*s)
	{
		int			n = utf8_reference(s);

		if (n == 0 || *s < 0x20 || *s == 0x7f)
			return false;
		s += n;
	}
	return true;
}

static void
check_text_param(const char *s)
{
	CHECK(text_param_ok(s) == text_param_reference(s),
		  "text_param_ok disagrees with RFC 3629 and the length and control-character rules");
}

static void
check_log_sanitize(const char *src)
{
	char		dst[LOG_PATH_MAX];
	size_t		n;

	memset(dst, 0x5a, sizeof(dst));
	log_sanitize(dst, sizeof(dst), src);
	n = strnlen(dst, sizeof(dst));
	CHECK(n < sizeof(dst), "log_sanitize left no terminating NUL");
	CHECK(n == strlen(src) || n == sizeof(dst) - 1, "log_sanitize lost bytes");
	for (size_t i = 0; i < n; i++)
		CHECK(dst[i] >= 0x20 && dst[i] < 0x7f && (dst[i] == src[i] || dst[i] == '?'),
			  "log_sanitize let a byte through that a log line must not hold");
}

static void
check_body(const char *content_length, const uint8_t *body, size_t len, size_t max_body,
		   unsigned int chunk_seed)
{
	request		req;
	size_t		off = 0;
	bool		open;

	memset(&req, 0, sizeof(req));
	open = body_begin(&req, content_length, max_body);
	CHECK(open != req.too_large, "body_begin's answer and too_large disagree");
	if (!open)
		return;					/* 413 before a byte is read */
	while (off < len)
	{
		/* chunk sizes from 1 byte to 64 KiB, as a socket delivers them */
		size_t		n = 1 + (chunk_seed = chunk_seed * 1103515245u + 12345u) % 65536u;

		if (n > len - off)
			n = len - off;
		if (!body_append(&req, (const char *) body + off, n, max_body))
		{
			CHECK(req.too_large && req.received > 2 * max_body,
				  "body_append closed a connection still within twice the limit");
			break;
		}
		off += n;
		CHECK(req.received == off, "body_append miscounted the bytes received");
		if (req.too_large)
			CHECK(req.body == NULL && req.len == 0 && req.received > max_body,
				  "a body over the limit was kept");
		else
			CHECK(req.len == off && req.cap >= req.len && req.cap <= max_body &&
				  memcmp(req.body, body, off) == 0,
				  "the body kept is not the bytes sent, or its buffer passed the limit");
	}
	free(req.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data,
			   *end = data + size;
	size_t		max_body;
	unsigned int chunk_seed;
	char	   *content_length,
			   *signature,
			   *token,
			   *path;

	if (size < 3)
		return 0;
	/* 1 byte to 3 MB (the default), mostly small enough to be passed */
	max_body = p[0] == 0xff ? DEFAULT_MAX_BODY : 1 + (size_t) p[0] * 257;
	chunk_seed = p[1] | (unsigned int) p[2] << 8;
	p += 3;
	content_length = next_line(&p, end);
	signature = next_line(&p, end);
	token = next_line(&p, end);
	path = next_line(&p, end);
	check_text_param(signature);
	check_text_param(token);
	check_log_sanitize(path);
	check_body(content_length[0] ? content_length : NULL, p, (size_t) (end - p), max_body, chunk_seed);
	free(content_length);
	free(signature);
	free(token);
	free(path);
	return 0;
}
