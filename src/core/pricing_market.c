/*
 * pricing_market.c
 *		Country -> Meta pricing market, by date (see pricing_market.h).
 *
 * Sources (shared/pricing.md): the standalone markets at March 2026 and
 * the moves of 2025-10-01 (Zimbabwe: Other -> Rest of Africa), 2026-07-01
 * (HK HU PL QA RO SG) and 2026-10-01 (BD IQ KZ KW MA NP OM LK UA); the
 * members of Rest of Latin America, Rest of Western Europe, Rest of Africa
 * and Rest of Asia Pacific as listed with Meta's October 2026 card.  Not
 * in pricing.md, so unverified: the members of Rest of Central & Eastern
 * Europe and Rest of Middle East, which region each moved market left,
 * and Kazakhstan before its move (priced with Russia, whose +7 it shares).
 * Meta's own "Country Calling Codes and Regional Rate Mapping" file is the
 * authority: when it disagrees, this table is what changes.
 */
#include "core/pricing_market.h"

#include <stddef.h>
#include <string.h>

#include "core/calling_code.h"

typedef struct MarketRule
{
	const char *country;
	const char *market;
	int			from;			/* YYYYMMDD inclusive; 0: always */
	int			until;			/* YYYYMMDD exclusive; 0: still */
} MarketRule;

#define JUL26 20260701
#define OCT26 20261001

#define LATAM "Rest of Latin America"
#define WEUROPE "Rest of Western Europe"
#define CEE "Rest of Central & Eastern Europe"
#define AFRICA "Rest of Africa"
#define APAC "Rest of Asia Pacific"
#define MIDEAST "Rest of Middle East"

static const MarketRule rules[] = {
	/* standalone since before PMP */
	{"AR", "Argentina", 0, 0}, {"BR", "Brazil", 0, 0}, {"CL", "Chile", 0, 0}, {"CO", "Colombia", 0, 0},
	{"EG", "Egypt", 0, 0}, {"FR", "France", 0, 0}, {"DE", "Germany", 0, 0}, {"IN", "India", 0, 0},
	{"ID", "Indonesia", 0, 0}, {"IL", "Israel", 0, 0}, {"IT", "Italy", 0, 0}, {"MY", "Malaysia", 0, 0},
	{"MX", "Mexico", 0, 0}, {"NL", "Netherlands", 0, 0}, {"NG", "Nigeria", 0, 0}, {"PK", "Pakistan", 0, 0},
	{"PE", "Peru", 0, 0}, {"RU", "Russia", 0, 0}, {"SA", "Saudi Arabia", 0, 0}, {"ZA", "South Africa", 0, 0},
	{"ES", "Spain", 0, 0}, {"TR", "Turkey", 0, 0}, {"AE", "United Arab Emirates", 0, 0}, {"GB", "United Kingdom", 0, 0},
	{"US", PRICING_MARKET_NORTH_AMERICA, 0, 0}, {"CA", PRICING_MARKET_NORTH_AMERICA, 0, 0},

	/* moved out of their regions on 2026-07-01 */
	{"HK", APAC, 0, JUL26}, {"HK", "Hong Kong", JUL26, 0},
	{"SG", APAC, 0, JUL26}, {"SG", "Singapore", JUL26, 0},
	{"HU", CEE, 0, JUL26}, {"HU", "Hungary", JUL26, 0},
	{"PL", CEE, 0, JUL26}, {"PL", "Poland", JUL26, 0},
	{"RO", CEE, 0, JUL26}, {"RO", "Romania", JUL26, 0},
	{"QA", MIDEAST, 0, JUL26}, {"QA", "Qatar", JUL26, 0},
	/* ... and on 2026-10-01 */
	{"BD", APAC, 0, OCT26}, {"BD", "Bangladesh", OCT26, 0},
	{"NP", APAC, 0, OCT26}, {"NP", "Nepal", OCT26, 0},
	{"LK", APAC, 0, OCT26}, {"LK", "Sri Lanka", OCT26, 0},
	{"IQ", MIDEAST, 0, OCT26}, {"IQ", "Iraq", OCT26, 0},
	{"KW", MIDEAST, 0, OCT26}, {"KW", "Kuwait", OCT26, 0},
	{"OM", MIDEAST, 0, OCT26}, {"OM", "Oman", OCT26, 0},
	{"MA", AFRICA, 0, OCT26}, {"MA", "Morocco", OCT26, 0},
	{"UA", CEE, 0, OCT26}, {"UA", "Ukraine", OCT26, 0},
	{"KZ", "Russia", 0, OCT26}, {"KZ", "Kazakhstan", OCT26, 0},

	/* Rest of Latin America (the Dominican Republic, Jamaica and Puerto Rico dial +1) */
	{"BO", LATAM, 0, 0}, {"CR", LATAM, 0, 0}, {"DO", LATAM, 0, 0}, {"EC", LATAM, 0, 0}, {"SV", LATAM, 0, 0},
	{"GT", LATAM, 0, 0}, {"HT", LATAM, 0, 0}, {"HN", LATAM, 0, 0}, {"JM", LATAM, 0, 0}, {"NI", LATAM, 0, 0},
	{"PA", LATAM, 0, 0}, {"PY", LATAM, 0, 0}, {"PR", LATAM, 0, 0}, {"UY", LATAM, 0, 0}, {"VE", LATAM, 0, 0},

	/* Rest of Western Europe */
	{"AT", WEUROPE, 0, 0}, {"BE", WEUROPE, 0, 0}, {"DK", WEUROPE, 0, 0}, {"FI", WEUROPE, 0, 0}, {"IE", WEUROPE, 0, 0},
	{"NO", WEUROPE, 0, 0}, {"PT", WEUROPE, 0, 0}, {"SE", WEUROPE, 0, 0}, {"CH", WEUROPE, 0, 0},

	/* Rest of Central & Eastern Europe (unverified membership) */
	{"AL", CEE, 0, 0}, {"AM", CEE, 0, 0}, {"AZ", CEE, 0, 0}, {"BY", CEE, 0, 0}, {"BG", CEE, 0, 0}, {"HR", CEE, 0, 0},
	{"CZ", CEE, 0, 0}, {"GE", CEE, 0, 0}, {"GR", CEE, 0, 0}, {"LV", CEE, 0, 0}, {"LT", CEE, 0, 0}, {"MK", CEE, 0, 0},
	{"MD", CEE, 0, 0}, {"RS", CEE, 0, 0}, {"SK", CEE, 0, 0}, {"SI", CEE, 0, 0},

	/* Rest of Africa; Zimbabwe joined on 2025-10-01 (it was Other) */
	{"DZ", AFRICA, 0, 0}, {"AO", AFRICA, 0, 0}, {"BJ", AFRICA, 0, 0}, {"BW", AFRICA, 0, 0}, {"BF", AFRICA, 0, 0},
	{"BI", AFRICA, 0, 0}, {"CM", AFRICA, 0, 0}, {"TD", AFRICA, 0, 0}, {"CG", AFRICA, 0, 0}, {"ER", AFRICA, 0, 0},
	{"ET", AFRICA, 0, 0}, {"GA", AFRICA, 0, 0}, {"GM", AFRICA, 0, 0}, {"GH", AFRICA, 0, 0}, {"GW", AFRICA, 0, 0},
	{"CI", AFRICA, 0, 0}, {"KE", AFRICA, 0, 0}, {"LS", AFRICA, 0, 0}, {"LR", AFRICA, 0, 0}, {"LY", AFRICA, 0, 0},
	{"MG", AFRICA, 0, 0}, {"MW", AFRICA, 0, 0}, {"ML", AFRICA, 0, 0}, {"MR", AFRICA, 0, 0}, {"MZ", AFRICA, 0, 0},
	{"NA", AFRICA, 0, 0}, {"NE", AFRICA, 0, 0}, {"RW", AFRICA, 0, 0}, {"SN", AFRICA, 0, 0}, {"SL", AFRICA, 0, 0},
	{"SO", AFRICA, 0, 0}, {"SS", AFRICA, 0, 0}, {"SD", AFRICA, 0, 0}, {"SZ", AFRICA, 0, 0}, {"TZ", AFRICA, 0, 0},
	{"TG", AFRICA, 0, 0}, {"TN", AFRICA, 0, 0}, {"UG", AFRICA, 0, 0}, {"ZM", AFRICA, 0, 0},
	{"ZW", AFRICA, 20251001, 0},

	/* Rest of Asia Pacific */
	{"AF", APAC, 0, 0}, {"AU", APAC, 0, 0}, {"KH", APAC, 0, 0}, {"CN", APAC, 0, 0}, {"JP", APAC, 0, 0}, {"LA", APAC, 0, 0},
	{"MN", APAC, 0, 0}, {"NZ", APAC, 0, 0}, {"PG", APAC, 0, 0}, {"PH", APAC, 0, 0}, {"TW", APAC, 0, 0}, {"TJ", APAC, 0, 0},
	{"TH", APAC, 0, 0}, {"TM", APAC, 0, 0}, {"UZ", APAC, 0, 0}, {"VN", APAC, 0, 0},

	/* Rest of Middle East (unverified membership) */
	{"BH", MIDEAST, 0, 0}, {"JO", MIDEAST, 0, 0}, {"LB", MIDEAST, 0, 0}, {"YE", MIDEAST, 0, 0},
};

#define NRULES ((int) (sizeof(rules) / sizeof(rules[0])))

static bool
in_force(const MarketRule *r, int date)
{
	return (r->from == 0 || date >= r->from) && (r->until == 0 || date < r->until);
}

const char *
pricing_market(const char *country, bool nanp, int date)
{
	if (country)
		for (int i = 0; i < NRULES; i++)
			if (strcmp(rules[i].country, country) == 0 && in_force(&rules[i], date))
				return rules[i].market;
	/* the rest of the +1 plan (the Bahamas, Guam...) is priced as North America */
	return nanp ? PRICING_MARKET_NORTH_AMERICA : PRICING_MARKET_OTHER;
}

/* A business-scoped user id ("BR.8675309...") names its country first. */
static const char *
bsuid_country(const char *id, char *buf)
{
	if (id && id[0] >= 'A' && id[0] <= 'Z' && id[1] >= 'A' && id[1] <= 'Z' && id[2] == '.')
	{
		buf[0] = id[0];
		buf[1] = id[1];
		buf[2] = '\0';
		return buf;
	}
	return NULL;
}

const char *
pricing_market_of_number(const char *number, int date, const char **country)
{
	static char bsuid[3];
	const char *c = calling_code_country(number, NULL);

	if (c == NULL && (c = bsuid_country(number, bsuid)) != NULL)
	{
		if (country)
			*country = c;
		return pricing_market(c, strcmp(c, "US") == 0 || strcmp(c, "CA") == 0, date);
	}

	if (country)
		*country = c;
	return pricing_market(c, c != NULL && calling_code_is_nanp(number), date);
}

bool
pricing_market_known(const char *name)
{
	if (name == NULL)
		return false;
	if (strcmp(name, PRICING_MARKET_OTHER) == 0 || strcmp(name, PRICING_MARKET_NORTH_AMERICA) == 0)
		return true;
	for (int i = 0; i < NRULES; i++)
		if (strcmp(rules[i].market, name) == 0)
			return true;
	return false;
}

bool
pricing_market_rule(int i, const char **country, const char **market, int *from, int *until)
{
	if (i < 0 || i >= NRULES)
		return false;
	*country = rules[i].country;
	*market = rules[i].market;
	*from = rules[i].from;
	*until = rules[i].until;
	return true;
}
