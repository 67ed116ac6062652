/*
 * lead_text.c
 *		A lead's messages to features: PostgreSQL's text search for the
 *		words (a Snowball configuration per message language, accents
 *		removed by contrib's unaccent dictionary), hashed into words and
 *		word pairs; src/core's rules for the fit signals.
 *
 * Each message is read in its own language (leads switch: "Hola! quero
 * saber do CDB"), guessed from its function words.  Pairs join lexemes
 * that stand next to each other or with one stop word between ("quanto
 * rende o CDB": quant-rend, rend-cdb); they never cross messages.
 */
#include "pg/lead.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "tsearch/ts_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "core/lead_features.h"
#include "core/lead_signals.h"
#include "core/lead_text.h"

/* a pair may skip this many positions (one stop word) */
#define PAIR_MAX_GAP 2

static const char *const config_names[] = {
	[LEAD_LANG_PT] = "lead_portuguese",
	[LEAD_LANG_ES] = "lead_spanish",
	[LEAD_LANG_EN] = "lead_english",
};

/* Looked up each time: a cached OID would outlive DROP EXTENSION. */
Oid
lead_ts_config(LeadLanguage lang)
{
	return get_ts_config_oid(list_make2(makeString("antiban"), makeString((char *) config_names[lang])),
							 false);
}

typedef struct Occurrence
{
	int			pos;
	char	   *lexeme;			/* UTF-8, terminated */
} Occurrence;

static int
by_position(const void *a, const void *b)
{
	int			x = ((const Occurrence *) a)->pos;
	int			y = ((const Occurrence *) b)->pos;

	return (x > y) - (x < y);
}

static TSVector
lexemes_of(const char *body, Oid config)
{
	return DatumGetTSVector(DirectFunctionCall2(to_tsvector_byid, ObjectIdGetDatum(config),
												PointerGetDatum(cstring_to_text(body))));
}

/* The lexemes of a tsvector in the order they stood in the text. */
static Occurrence *
occurrences(TSVector tsv, int *n)
{
	WordEntry  *we = ARRPTR(tsv);
	char	   *base = STRPTR(tsv);
	int			total = 0,
				k = 0;
	Occurrence *occ;

	for (int i = 0; i < tsv->size; i++)
		total += Max(POSDATALEN(tsv, &we[i]), 1);
	occ = palloc(sizeof(Occurrence) * Max(total, 1));
	for (int i = 0; i < tsv->size; i++)
	{
		char	   *copy = pnstrdup(base + we[i].pos, we[i].len);
		char	   *lexeme = pg_server_to_any(copy, we[i].len, PG_UTF8);
		int			npos = POSDATALEN(tsv, &we[i]);
		WordEntryPos *pos = POSDATAPTR(tsv, &we[i]);

		if (npos == 0)
			occ[k++] = (Occurrence) {.pos = INT_MAX, .lexeme = lexeme};
		for (int j = 0; j < npos; j++)
			occ[k++] = (Occurrence) {.pos = WEP_GETPOS(pos[j]), .lexeme = lexeme};
	}
	qsort(occ, k, sizeof(Occurrence), by_position);
	*n = k;
	return occ;
}

/* The lexeme PostgreSQL makes of one word (UTF-8 in and out; NULL: a stop word). */
static char *
lexeme_of_word(const char *word, Oid config)
{
	TSVector	tsv = lexemes_of(pg_any_to_server(word, strlen(word), PG_UTF8), config);
	WordEntry  *we = ARRPTR(tsv);

	if (tsv->size != 1)
		return NULL;
	return pg_server_to_any(pnstrdup(STRPTR(tsv) + we[0].pos, we[0].len), we[0].len, PG_UTF8);
}

/* While training: which words the lead wrote for each lexeme. */
static void
note_surfaces(const char *utf8, Oid config, LeadTerms *terms)
{
	LeadTokens *t = palloc(sizeof(LeadTokens));

	lead_tokenize_surface(utf8, t);
	for (int i = 0; i < t->n; i++)
	{
		const char *lexeme;

		if (t->tok[i].kind != LT_WORD)
			continue;
		lexeme = lead_terms_lexeme(terms, config, t->tok[i].word, lexeme_of_word);
		if (lexeme)
			lead_terms_note_surface(terms, lexeme, t->tok[i].word);
	}
	pfree(t);
}

static void
add_words(const char *body, Oid config, LeadVec *out, LeadTerms *terms)
{
	int			n;
	Occurrence *occ = occurrences(lexemes_of(body, config), &n);

	for (int i = 0; i < n; i++)
	{
		int32		f = lead_unigram_feature(occ[i].lexeme);

		lead_vec_push(out, f, 1.0f);
		if (terms)
			lead_terms_note_lexeme(terms, f, occ[i].lexeme);
		if (i > 0 && occ[i].pos != INT_MAX && occ[i].pos > occ[i - 1].pos &&
			occ[i].pos - occ[i - 1].pos <= PAIR_MAX_GAP)
		{
			int32		p = lead_bigram_feature(occ[i - 1].lexeme, occ[i].lexeme);

			lead_vec_push(out, p, 1.0f);
			if (terms)
				lead_terms_note_lexeme(terms, p, psprintf("%s %s", occ[i - 1].lexeme, occ[i].lexeme));
		}
	}
}

void
lead_text_extract(const char *body, LeadVec *out, LeadTerms *terms)
{
	char	   *utf8 = pg_server_to_any(body, strlen(body), PG_UTF8);
	LeadTokens *t = palloc(sizeof(LeadTokens));
	LeadEntry	fit[LEAD_FIT_MAX];
	LeadLanguage lang;
	Oid			config;
	int			n;

	lead_tokenize(utf8, t);
	lang = lead_language_of(t);
	n = lead_fit_signals(t, lang, fit);
	for (int i = 0; i < n; i++)
		lead_vec_push(out, fit[i].idx, fit[i].val);
	pfree(t);
	config = lead_ts_config(lang);
	add_words(body, config, out, terms);
	if (terms)
		note_surfaces(utf8, config, terms);
}

/* The text[] argument's elements (NULL elements skipped). */
static void
texts_of(ArrayType *a, Datum **elems, bool **nulls, int *n)
{
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("lead texts must be a one-dimensional array")));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, n);
}

PG_FUNCTION_INFO_V1(antiban_lead_text_features);

/*
 * antiban.lead_text_features(texts text[], OUT features int4[],
 *		OUT feature_values float4[]): the stored vector of a lead's messages.
 */
Datum
antiban_lead_text_features(PG_FUNCTION_ARGS)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	LeadVec		v;
	Datum		values[2];
	bool		rnulls[2] = {false, false};

	texts_of(PG_GETARG_ARRAYTYPE_P(0), &elems, &nulls, &n);
	lead_vec_init(&v, 64);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			lead_text_extract(TextDatumGetCString(elems[i]), &v, NULL);
	lead_vec_normalize(&v);
	lead_vec_to_arrays(v.e, v.n, &values[0], &values[1]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, rnulls)));
}

PG_FUNCTION_INFO_V1(antiban_lead_language);

/* antiban.lead_language(message text): pt, es or en, as the features read it. */
Datum
antiban_lead_language(PG_FUNCTION_ARGS)
{
	char	   *body = text_to_cstring(PG_GETARG_TEXT_PP(0));
	LeadTokens *t = palloc(sizeof(LeadTokens));

	lead_tokenize(pg_server_to_any(body, strlen(body), PG_UTF8), t);
	PG_RETURN_TEXT_P(cstring_to_text(lead_language_code(lead_language_of(t))));
}

PG_FUNCTION_INFO_V1(antiban_lead_lexemes);

/* antiban.lead_lexemes(message text): its lexemes in the order they stood. */
Datum
antiban_lead_lexemes(PG_FUNCTION_ARGS)
{
	char	   *body = text_to_cstring(PG_GETARG_TEXT_PP(0));
	LeadTokens *t = palloc(sizeof(LeadTokens));
	Occurrence *occ;
	Datum	   *out;
	int			n;

	lead_tokenize(pg_server_to_any(body, strlen(body), PG_UTF8), t);
	occ = occurrences(lexemes_of(body, lead_ts_config(lead_language_of(t))), &n);
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		out[i] = CStringGetTextDatum(pg_any_to_server(occ[i].lexeme, strlen(occ[i].lexeme), PG_UTF8));
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, TEXTOID, -1, false, TYPALIGN_INT));
}
