/*
 * iso4217.h
 *		Is a three-letter code an ISO 4217 currency?
 *
 * A template's currency parameter names its currency by code ("BRL"); Meta
 * refuses a code that is no currency, so antiban refuses it before queuing.
 * The table holds the active currencies of ISO 4217 (not its fund codes,
 * precious metals, bond units or testing codes: no price is written in
 * them).
 */
#ifndef ANTIBAN_ISO4217_H
#define ANTIBAN_ISO4217_H

#include <stdbool.h>

/* 'code' is exactly three upper-case letters naming an active currency. */
extern bool iso4217_known(const char *code, long len);

/* The table, sorted (for the unit test). */
extern const char *const iso4217_codes[];
extern const int iso4217_count;

#endif							/* ANTIBAN_ISO4217_H */
