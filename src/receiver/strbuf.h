/*
 * strbuf.h — antiban-receiver: a growable text buffer for built answers
 * (/metrics).
 */
#ifndef RECEIVER_STRBUF_H
#define RECEIVER_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf
{
	char	   *data;			/* NUL-terminated; NULL until the first append */
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory: everything after is dropped */
} strbuf;

extern void sb_append(strbuf *sb, const char *text, size_t len);
extern void sb_puts(strbuf *sb, const char *text);
extern void sb_printf(strbuf *sb, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Frees the buffer; a strbuf may be reused after. */
extern void sb_free(strbuf *sb);

#endif							/* RECEIVER_STRBUF_H */
