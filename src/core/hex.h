/*
 * hex.h
 *		One hexadecimal digit's value, for signatures ("sha256=<hex>") and
 *		JSON's \uXXXX escapes alike.
 */
#ifndef ANTIBAN_HEX_H
#define ANTIBAN_HEX_H

/* 0..15, or -1 for anything that is not a hexadecimal digit. */
static inline int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* ANTIBAN_HEX_H */
