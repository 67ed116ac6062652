/*
 * csv.h
 *		A small RFC 4180 reader: comma-separated fields, double-quoted fields
 *		with "" for a quote and line breaks inside, LF or CRLF line ends, a
 *		UTF-8 byte-order mark ignored.  It knows nothing of what the fields
 *		mean; it reports where each record started so callers can name the
 *		line of a bad value.
 */
#ifndef ANTIBAN_CSV_H
#define ANTIBAN_CSV_H

#include <stddef.h>

typedef struct CsvReader
{
	const char *p;
	const char *end;
	int			line;			/* line of the next record (1-based) */
} CsvReader;

extern void csv_init(CsvReader *r, const char *text, size_t len);

/*
 * Read one record: its fields are NUL-terminated strings in 'buf', pointed
 * to by fields[0..n-1].  Returns n (an empty line is one empty field), 0 at
 * the end of the input, or -1 with *why set (an unclosed quote, text after
 * a closing quote, more than 'max' fields, a record longer than 'size').
 * *line receives the line the record starts on.
 */
extern int	csv_read(CsvReader *r, char *buf, size_t size, char **fields, int max, int *line,
					 const char **why);

#endif							/* ANTIBAN_CSV_H */
