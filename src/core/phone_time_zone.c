/*
 * phone_time_zone.c
 *		Phone number -> IANA time zone (see phone_time_zone.h).
 *
 * Brazil by area code (DDD), from ANATEL's plan: the zone of the state
 * each code belongs to.  Exceptions a DDD can not see: Fernando de
 * Noronha (UTC-2) shares 81 with Recife; the west of Amazonas
 * (America/Eirunepe, UTC-5) shares 97 with the rest of the state (UTC-4).
 */
#include "core/phone_time_zone.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/calling_code.h"

typedef struct DddZone
{
	int			first;
	int			last;
	const char *zone;
} DddZone;

/* Ranges of area codes, ascending; a code in no range is unassigned. */
static const DddZone ddd_zones[] = {
	{11, 19, "America/Sao_Paulo"},	/* SP */
	{21, 22, "America/Sao_Paulo"},	/* RJ */
	{24, 24, "America/Sao_Paulo"},	/* RJ */
	{27, 28, "America/Sao_Paulo"},	/* ES */
	{31, 35, "America/Sao_Paulo"},	/* MG */
	{37, 38, "America/Sao_Paulo"},	/* MG */
	{41, 46, "America/Sao_Paulo"},	/* PR */
	{47, 49, "America/Sao_Paulo"},	/* SC */
	{51, 51, "America/Sao_Paulo"},	/* RS */
	{53, 55, "America/Sao_Paulo"},	/* RS */
	{61, 61, "America/Sao_Paulo"},	/* DF */
	{62, 62, "America/Sao_Paulo"},	/* GO */
	{63, 63, "America/Araguaina"},	/* TO */
	{64, 64, "America/Sao_Paulo"},	/* GO */
	{65, 66, "America/Cuiaba"}, /* MT, UTC-4 */
	{67, 67, "America/Campo_Grande"},	/* MS, UTC-4 */
	{68, 68, "America/Rio_Branco"}, /* AC, UTC-5 */
	{69, 69, "America/Porto_Velho"},	/* RO, UTC-4 */
	{71, 71, "America/Bahia"},	/* BA */
	{73, 75, "America/Bahia"},	/* BA */
	{77, 77, "America/Bahia"},	/* BA */
	{79, 79, "America/Maceio"}, /* SE */
	{81, 81, "America/Recife"}, /* PE */
	{82, 82, "America/Maceio"}, /* AL */
	{83, 83, "America/Fortaleza"},	/* PB */
	{84, 84, "America/Fortaleza"},	/* RN */
	{85, 85, "America/Fortaleza"},	/* CE */
	{86, 86, "America/Fortaleza"},	/* PI */
	{87, 87, "America/Recife"}, /* PE */
	{88, 88, "America/Fortaleza"},	/* CE */
	{89, 89, "America/Fortaleza"},	/* PI */
	{91, 91, "America/Belem"},	/* PA */
	{92, 92, "America/Manaus"}, /* AM, UTC-4 */
	{93, 93, "America/Santarem"},	/* PA */
	{94, 94, "America/Belem"},	/* PA */
	{95, 95, "America/Boa_Vista"},	/* RR, UTC-4 */
	{96, 96, "America/Belem"},	/* AP */
	{97, 97, "America/Manaus"}, /* AM, UTC-4 (Eirunepe: UTC-5) */
	{98, 99, "America/Fortaleza"},	/* MA */
};

typedef struct CountryZone
{
	const char *country;
	const char *zone;
} CountryZone;

/*
 * Countries of one zone, or one that holds nearly all their people
 * (Portugal without the Azores, Spain without the Canaries, Chile without
 * Easter Island, Argentina's single zone).  Sorted by country for bsearch.
 */
static const CountryZone country_zones[] = {
	{"AR", "America/Argentina/Buenos_Aires"}, {"AT", "Europe/Vienna"},
	{"BE", "Europe/Brussels"}, {"BO", "America/La_Paz"}, {"CH", "Europe/Zurich"},
	{"CL", "America/Santiago"}, {"CO", "America/Bogota"}, {"CR", "America/Costa_Rica"},
	{"DE", "Europe/Berlin"}, {"DO", "America/Santo_Domingo"}, {"EC", "America/Guayaquil"},
	{"ES", "Europe/Madrid"}, {"FR", "Europe/Paris"}, {"GB", "Europe/London"},
	{"GT", "America/Guatemala"}, {"HN", "America/Tegucigalpa"}, {"IE", "Europe/Dublin"},
	{"IN", "Asia/Kolkata"}, {"IT", "Europe/Rome"}, {"JP", "Asia/Tokyo"},
	{"NG", "Africa/Lagos"}, {"NL", "Europe/Amsterdam"}, {"PA", "America/Panama"},
	{"PE", "America/Lima"}, {"PT", "Europe/Lisbon"}, {"PY", "America/Asuncion"},
	{"SV", "America/El_Salvador"}, {"UY", "America/Montevideo"}, {"VE", "America/Caracas"},
	{"ZA", "Africa/Johannesburg"},
};

const char *
brazil_ddd_time_zone(int ddd)
{
	for (size_t i = 0; i < sizeof(ddd_zones) / sizeof(ddd_zones[0]); i++)
		if (ddd >= ddd_zones[i].first && ddd <= ddd_zones[i].last)
			return ddd_zones[i].zone;
	return NULL;
}

static int
compare_country(const void *key, const void *elem)
{
	return strcmp((const char *) key, ((const CountryZone *) elem)->country);
}

/* The two digits after +55, or -1. */
static int
brazil_ddd(const char *number)
{
	const char *d = number[0] == '+' ? number + 1 : number;

	if (strncmp(d, "55", 2) != 0 || !isdigit((unsigned char) d[2]) || !isdigit((unsigned char) d[3]))
		return -1;
	return (d[2] - '0') * 10 + (d[3] - '0');
}

/* E.164 digits, "+" optional: a business-scoped user id ("BR.1234...") is no phone. */
static bool
is_phone(const char *number)
{
	const char *d = number[0] == '+' ? number + 1 : number;

	if (*d == '\0')
		return false;
	for (; *d; d++)
		if (!isdigit((unsigned char) *d))
			return false;
	return true;
}

const char *
phone_time_zone(const char *number)
{
	const char *country = number && is_phone(number) ? calling_code_country(number, NULL) : NULL;
	const CountryZone *cz;

	if (country == NULL)
		return NULL;
	if (strcmp(country, "BR") == 0)
		return brazil_ddd_time_zone(brazil_ddd(number));
	cz = bsearch(country, country_zones, sizeof(country_zones) / sizeof(country_zones[0]),
				 sizeof(country_zones[0]), compare_country);
	return cz ? cz->zone : NULL;
}
