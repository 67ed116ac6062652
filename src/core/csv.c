/*
 * csv.c
 *		RFC 4180 records (see csv.h).
 */
#include "core/csv.h"

#include <stdbool.h>
#include <string.h>

void
csv_init(CsvReader *r, const char *text, size_t len)
{
	r->p = text;
	r->end = text + len;
	r->line = 1;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r->p += 3;
}

/* At a line end: step over it (LF, CRLF or a lone CR) and count it. */
static bool
take_line_end(CsvReader *r)
{
	if (r->p < r->end && *r->p == '\r')
	{
		r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
		r->line++;
		return true;
	}
	if (r->p < r->end && *r->p == '\n')
	{
		r->p++;
		r->line++;
		return true;
	}
	return false;
}

int
csv_read(CsvReader *r, char *buf, size_t size, char **fields, int max, int *line, const char **why)
{
	size_t		used = 0;
	int			n = 0;

	*line = r->line;
	if (r->p >= r->end)
		return 0;
	for (;;)
	{
		bool		quoted = r->p < r->end && *r->p == '"';

		if (n == max)
		{
			*why = "too many fields";
			return -1;
		}
		fields[n++] = buf + used;
		if (quoted)
			r->p++;
		for (;;)
		{
			char		c;

			if (r->p >= r->end)
			{
				if (quoted)
				{
					*why = "a quoted field is not closed";
					return -1;
				}
				break;
			}
			c = *r->p;
			if (quoted && c == '"')
			{
				if (r->p + 1 < r->end && r->p[1] == '"')
					r->p++;		/* "" is one quote */
				else
				{
					r->p++;
					quoted = false;
					if (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n')
					{
						*why = "text after a closing quote";
						return -1;
					}
					continue;
				}
			}
			else if (!quoted && (c == ',' || c == '\r' || c == '\n'))
				break;
			else if (quoted && (c == '\r' || c == '\n'))
			{
				/* a line break inside quotes belongs to the field */
				if (c == '\n' || (r->p + 1 < r->end && r->p[1] != '\n'))
					r->line++;
			}
			if (used + 2 > size)
			{
				*why = "the line is too long";
				return -1;
			}
			buf[used++] = *r->p++;
		}
		if (used >= size)
		{
			*why = "the line is too long";
			return -1;
		}
		buf[used++] = '\0';
		if (r->p < r->end && *r->p == ',')
		{
			r->p++;
			continue;
		}
		take_line_end(r);
		return n;
	}
}
