/*
 * sbuf.h — growable string buffer with JSON string escaping.
 */
#ifndef SBUF_H
#define SBUF_H

#include <stddef.h>

typedef struct sbuf
{
	char	   *data;			/* always NUL-terminated once initialised */
	size_t		len;
	size_t		cap;
} sbuf;

void		sbuf_init(sbuf *b, size_t cap);
void		sbuf_free(sbuf *b);
void		sbuf_put(sbuf *b, const char *s, size_t n);
void		sbuf_puts(sbuf *b, const char *s);
void		sbuf_putc(sbuf *b, char c);
void		sbuf_printf(sbuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
/* A quoted JSON string, escaped the way Graph does it. */
void		sbuf_json_str(sbuf *b, const char *s);
/* "key": prefix, with a comma unless it is the first member. */
void		sbuf_json_key(sbuf *b, const char *key, int *first);
/* A TSV field: tabs, newlines and backslashes escaped; NULL/empty -> "-". */
void		sbuf_tsv_field(sbuf *b, const char *s);
char	   *sbuf_steal(sbuf *b, size_t *len);

#endif							/* SBUF_H */
