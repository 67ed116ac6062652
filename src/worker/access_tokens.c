/*
 * access_tokens.c
 *		The sender's copy of each number's access token (its WABA's), read
 *		from antiban.secrets and refreshed with the numbers cache.  Tokens
 *		stay in this process's memory; they are never logged.
 */
#include "worker/sender.h"

#include "executor/spi.h"
#include "utils/memutils.h"

typedef struct TokenEntry
{
	int64		number_id;
	char	   *token;
} TokenEntry;

static HTAB *tokens = NULL;
static MemoryContext token_context = NULL;
static uint64 loaded_generation = 0;

/* SPI_execute leaves CurrentMemoryContext at SPI's own: put the caller's back. */
static void
load_tokens(void)
{
	HASHCTL		ctl = {.keysize = sizeof(int64), .entrysize = sizeof(TokenEntry)};
	MemoryContext caller = CurrentMemoryContext;

	if (token_context)
		MemoryContextDelete(token_context);
	token_context = AllocSetContextCreate(TopMemoryContext, "antiban access tokens",
										  ALLOCSET_SMALL_SIZES);
	ctl.hcxt = token_context;
	tokens = hash_create("antiban access tokens", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (SPI_execute("SELECT n.id, s.value FROM antiban.numbers n"
					" JOIN antiban.secrets s ON s.kind = 'access_token' AND s.waba_id = n.waba_id",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "antiban: could not read access tokens");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		TokenEntry *e = hash_search(tokens, &id, HASH_ENTER, NULL);

		e->token = MemoryContextStrdup(token_context, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	MemoryContextSwitchTo(caller);
}

/*
 * The token for a number, or NULL when its WABA has none.  Called inside a
 * transaction with SPI connected (the claim).
 */
const char *
access_token_for(int64 number_id)
{
	uint64		generation = pg_atomic_read_u64(&antiban_shared->config_generation);
	TokenEntry *e;

	if (tokens == NULL || generation != loaded_generation)
	{
		load_tokens();
		loaded_generation = generation;
	}
	e = hash_search(tokens, &number_id, HASH_FIND, NULL);
	return e ? e->token : NULL;
}
