/*
 * lead_terms.c
 *		Which words a hashed text feature stands for, so a reason can say
 *		"escreveu “quanto rende”" rather than a bucket number.
 *
 * While a model trains, every lexeme (and lexeme pair) is noted with the
 * bucket it hashes to, and every word as the lead wrote it with the lexeme
 * PostgreSQL makes of it ("rendimento" -> "rend").  A bucket's term is its
 * most frequent lexeme (pair) spelt with each lexeme's most frequent word:
 * collisions are resolved by frequency, ties by the first seen.
 */
#include "pg/lead.h"

#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#define TERM_MAX 64

typedef struct LexemeKey
{
	int32		feature;
	char		lexemes[TERM_MAX];	/* one lexeme, or two separated by a space */
} LexemeKey;

typedef struct LexemeCount
{
	LexemeKey	key;
	int64		count;
	int64		first;			/* order of first sight: breaks ties */
} LexemeCount;

typedef struct SurfaceKey
{
	char		lexeme[TERM_MAX];
	char		word[TERM_MAX];
} SurfaceKey;

typedef struct SurfaceCount
{
	SurfaceKey	key;
	int64		count;
	int64		first;
} SurfaceCount;

typedef struct BestWord
{
	char		lexeme[TERM_MAX];	/* the key */
	char		word[TERM_MAX];
	int64		count;
	int64		first;
} BestWord;

typedef struct BestLexemes
{
	int32		feature;		/* the key */
	char		lexemes[TERM_MAX];
	int64		count;
	int64		first;
} BestLexemes;

/* what to_tsvector made of one word in one configuration */
typedef struct WordKey
{
	Oid			config;
	char		word[TERM_MAX];
} WordKey;

typedef struct WordLexeme
{
	WordKey		key;
	bool		stop;			/* no lexeme: a stop word */
	char		lexeme[TERM_MAX];
} WordLexeme;

typedef struct FeatureTerm
{
	int32		feature;
	char		term[2 * TERM_MAX];
} FeatureTerm;

struct LeadTerms
{
	MemoryContext cxt;
	HTAB	   *lexemes;
	HTAB	   *surfaces;
	HTAB	   *words;
	HTAB	   *features;		/* built by the first lead_terms_best */
	int64		seen;
};

static HTAB *
table(LeadTerms *t, const char *name, Size key, Size entry)
{
	HASHCTL		ctl = {.keysize = key, .entrysize = entry, .hcxt = t->cxt};

	return hash_create(name, 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

LeadTerms *
lead_terms_create(void)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "antiban lead terms",
											  ALLOCSET_DEFAULT_SIZES);
	LeadTerms  *t = MemoryContextAllocZero(cxt, sizeof(LeadTerms));

	t->cxt = cxt;
	t->lexemes = table(t, "lead lexemes", sizeof(LexemeKey), sizeof(LexemeCount));
	t->surfaces = table(t, "lead surfaces", sizeof(SurfaceKey), sizeof(SurfaceCount));
	t->words = table(t, "lead word lexemes", sizeof(WordKey), sizeof(WordLexeme));
	return t;
}

static void
copy_key(char *dst, const char *src)
{
	memset(dst, 0, TERM_MAX);
	strlcpy(dst, src, TERM_MAX);
}

void
lead_terms_note_lexeme(LeadTerms *t, int32 feature, const char *lexemes)
{
	LexemeKey	key;
	LexemeCount *c;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.feature = feature;
	copy_key(key.lexemes, lexemes);
	c = hash_search(t->lexemes, &key, HASH_ENTER, &found);
	if (!found)
	{
		c->count = 0;
		c->first = t->seen++;
	}
	c->count++;
}

/*
 * The lexeme of a word, asking lexeme_of only the first time a word is
 * seen (training reads the same words thousands of times).  NULL: a stop
 * word.
 */
const char *
lead_terms_lexeme(LeadTerms *t, Oid config, const char *word, char *(*lexeme_of) (const char *, Oid))
{
	WordKey		key;
	WordLexeme *w;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.config = config;
	copy_key(key.word, word);
	w = hash_search(t->words, &key, HASH_ENTER, &found);
	if (!found)
	{
		char	   *lexeme = lexeme_of(word, config);

		w->stop = lexeme == NULL;
		copy_key(w->lexeme, lexeme ? lexeme : "");
	}
	return w->stop ? NULL : w->lexeme;
}

void
lead_terms_note_surface(LeadTerms *t, const char *lexeme, const char *word)
{
	SurfaceKey	key;
	SurfaceCount *c;
	bool		found;

	copy_key(key.lexeme, lexeme);
	copy_key(key.word, word);
	c = hash_search(t->surfaces, &key, HASH_ENTER, &found);
	if (!found)
	{
		c->count = 0;
		c->first = t->seen++;
	}
	c->count++;
}

/* More frequent, or as frequent and seen first. */
static bool
better(int64 count, int64 first, int64 best_count, int64 best_first)
{
	return count > best_count || (count == best_count && first < best_first);
}

/* Each lexeme's most frequent word. */
static HTAB *
best_words(LeadTerms *t)
{
	HTAB	   *best = table(t, "lead best words", TERM_MAX, sizeof(BestWord));
	HASH_SEQ_STATUS seq;
	SurfaceCount *c;

	hash_seq_init(&seq, t->surfaces);
	while ((c = hash_seq_search(&seq)) != NULL)
	{
		bool		found;
		BestWord   *b = hash_search(best, c->key.lexeme, HASH_ENTER, &found);

		if (!found || better(c->count, c->first, b->count, b->first))
		{
			memcpy(b->word, c->key.word, TERM_MAX);
			b->count = c->count;
			b->first = c->first;
		}
	}
	return best;
}

/* "quant rend" -> "quanto rende", each lexeme by its word (or itself). */
static void
spell(HTAB *words, const char *lexemes, char *out, size_t outlen)
{
	char		copy[TERM_MAX];
	char	   *save = NULL;

	strlcpy(copy, lexemes, sizeof(copy));
	out[0] = '\0';
	for (char *lex = strtok_r(copy, " ", &save); lex; lex = strtok_r(NULL, " ", &save))
	{
		char		key[TERM_MAX];
		BestWord   *b;

		copy_key(key, lex);
		b = hash_search(words, key, HASH_FIND, NULL);
		if (out[0])
			strlcat(out, " ", outlen);
		strlcat(out, b ? b->word : lex, outlen);
	}
}

static void
build_features(LeadTerms *t)
{
	HTAB	   *words = best_words(t);
	HTAB	   *best = table(t, "lead best lexemes", sizeof(int32), sizeof(BestLexemes));
	HASH_SEQ_STATUS seq;
	LexemeCount *c;
	BestLexemes *b;

	/* each feature's most frequent lexeme (pair) */
	hash_seq_init(&seq, t->lexemes);
	while ((c = hash_seq_search(&seq)) != NULL)
	{
		bool		found;

		b = hash_search(best, &c->key.feature, HASH_ENTER, &found);
		if (!found || better(c->count, c->first, b->count, b->first))
		{
			memcpy(b->lexemes, c->key.lexemes, TERM_MAX);
			b->count = c->count;
			b->first = c->first;
		}
	}
	t->features = table(t, "lead feature terms", sizeof(int32), sizeof(FeatureTerm));
	hash_seq_init(&seq, best);
	while ((b = hash_seq_search(&seq)) != NULL)
	{
		FeatureTerm *ft = hash_search(t->features, &b->feature, HASH_ENTER, NULL);

		spell(words, b->lexemes, ft->term, sizeof(ft->term));
	}
}

char *
lead_terms_best(LeadTerms *t, int32 feature)
{
	FeatureTerm *ft;

	if (t->features == NULL)
		build_features(t);
	ft = hash_search(t->features, &feature, HASH_FIND, NULL);
	return ft ? pstrdup(ft->term) : NULL;
}
