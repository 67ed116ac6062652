/*
 * rate_card.h
 *		Meta's published pricing files, read line by line with errors that
 *		name the line and the column.
 *
 * Rates: "Market,Currency,Marketing,Utility,Authentication,
 * Authentication-International,Service" (Service and
 * Authentication-International may be missing; other columns, such as the
 * October 2026 "Meta Business Agent", are ignored), a price per delivered
 * message, "n/a" (or empty) where a market has none.  A title line ("Cost
 * per message in USD on the WhatsApp Business Platform, effective ...")
 * may come first; if it names a currency, it must be the card's.
 *
 * Volume tiers: "Market,Currency,Category,From,To,Rate", one band per
 * line (Category Utility, Authentication or Authentication-International;
 * From and To the first and last message numbers of the band, thousands
 * separators allowed, To empty or MAX for the top band).  Meta's own
 * tier file was not available to us; this is the layout of its tier
 * tables, one row per band.
 *
 * Prices come back as validated decimal text (up to 8 digits before and 6
 * after the point) so SQL stores them exactly as numeric.
 */
#ifndef ANTIBAN_RATE_CARD_H
#define ANTIBAN_RATE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/csv.h"
#include "core/pricing_category.h"

#define PRICING_CSV_MAX_FIELDS 32
#define PRICING_CSV_MAX_SPEC 8
#define PRICE_MAXLEN 24
#define PRICING_MARKET_MAXLEN 128

typedef struct PricingCsvError
{
	int			line;			/* 1-based */
	int			column;			/* 1-based field number; 0: the whole line */
	char		column_name[64];	/* as the header spells it */
	char		message[256];
	const char *hint;			/* may be NULL */
} PricingCsvError;

/* A pricing file being read: which field holds each known column. */
typedef struct PricingCsv
{
	CsvReader	csv;
	const char *const *names;	/* the known columns, canonical spelling */
	const bool *required;
	int			nnames;
	int			index[PRICING_CSV_MAX_SPEC];	/* field of each known column, -1 absent */
	int			nfields;		/* fields of the header */
	int			line;			/* line of the current record */
	char		header[PRICING_CSV_MAX_FIELDS][64];
	char	   *fields[PRICING_CSV_MAX_FIELDS];
	char		buf[8192];
	char		currency[4];
} PricingCsv;

typedef struct RateCardRow
{
	int			line;
	char		market[PRICING_MARKET_MAXLEN];
	bool		has[RATE_NCOLUMNS];
	char		price[RATE_NCOLUMNS][PRICE_MAXLEN];
} RateCardRow;

typedef struct TierRow
{
	int			line;
	char		market[PRICING_MARKET_MAXLEN];
	RateColumn	column;			/* utility, authentication or authentication_international */
	int64_t		first;
	int64_t		last;			/* TIER_OPEN for the top band */
	char		rate[PRICE_MAXLEN];
} TierRow;

/* Rates: open (finds and checks the header), then next until 0; -1 is an error in *e. */
extern bool rate_card_open(PricingCsv *r, const char *text, size_t len, const char *currency,
						   PricingCsvError *e);
extern int	rate_card_next(PricingCsv *r, RateCardRow *row, PricingCsvError *e);

/* Volume tiers, likewise. */
extern bool tier_file_open(PricingCsv *r, const char *text, size_t len, const char *currency,
						   PricingCsvError *e);
extern int	tier_file_next(PricingCsv *r, TierRow *row, PricingCsvError *e);

/*
 * A price as Meta writes it: "0.0625", ".0625", "586.6".  Returns 1 with
 * the normalised decimal in out, 0 for "n/a", "-" or empty (no price), -1
 * with *why when it is not a price.
 */
extern int	price_parse(const char *s, char *out, size_t size, const char **why);

/* An ISO 4217 code: three letters, returned upper-case in out[4]; false if not. */
extern bool currency_code(const char *s, char *out);

#endif							/* ANTIBAN_RATE_CARD_H */
