/*
 * admin_auth.c — antiban-receiver: HTTP basic auth of the admin listener.
 *
 * Users and hashes come from a file, never from argv or the environment,
 * and are never logged.  Comparisons run in constant time: every line is
 * checked whatever matched before, user names are compared as SHA-256
 * digests, hashes with CRYPTO_memcmp, and an unknown user costs the same
 * hash as a known one.  A bcrypt check costs tens of ms on
 * purpose; the page polls every few seconds, so a credential that passed is
 * remembered (as the SHA-256 of user, NUL, password) and later checks of the
 * same one are a digest compare.
 */
#include "admin_auth.h"
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32

typedef struct auth_user
{
	unsigned char user_digest[DIGEST_LEN];
	bool		is_sha256;		/* else a crypt(3) string */
	unsigned char sha256[DIGEST_LEN];
	char	   *crypt_hash;
} auth_user;

static auth_user *users;
static int	n_users;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char cache[ADMIN_AUTH_CACHE][DIGEST_LEN];
static int	cache_used,
			cache_next;

static void
digest(const void *data, size_t len, unsigned char out[DIGEST_LEN])
{
	unsigned int outlen = DIGEST_LEN;

	if (!EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL))
		abort();
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One "user:hash" line into u; false when it is not one. */
static bool
parse_line(char *line, auth_user *u)
{
	char	   *colon = strchr(line, ':');
	const char *hash;

	if (!colon || colon == line)
		return false;
	*colon = '\0';
	hash = colon + 1;
	digest(line, strlen(line), u->user_digest);
	if (strncmp(hash, "sha256:", 7) == 0)
	{
		hash += 7;
		if (strlen(hash) != 2 * DIGEST_LEN)
			return false;
		for (int i = 0; i < DIGEST_LEN; i++)
		{
			int			hi = hex_value(hash[2 * i]),
						lo = hex_value(hash[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return false;
			u->sha256[i] = (unsigned char) (hi << 4 | lo);
		}
		u->is_sha256 = true;
		return true;
	}
	if (hash[0] != '$' || strlen(hash) < 13)
		return false;
	return (u->crypt_hash = strdup(hash)) != NULL;
}

bool
admin_auth_load(const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char		line[1024];
	int			lineno = 0;

	if (!f)
	{
		snprintf(err, errlen, "cannot read --admin-auth-file %s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f))
	{
		size_t		len = strcspn(line, "\r\n");
		auth_user  *grown;

		lineno++;
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (!(grown = realloc(users, (n_users + 1) * sizeof(auth_user))))
			abort();
		users = grown;
		memset(&users[n_users], 0, sizeof(auth_user));
		if (!parse_line(line, &users[n_users]))
		{
			snprintf(err, errlen, "--admin-auth-file %s line %d is not user:hash "
					 "(hash: a crypt(3) string such as $2b$... or sha256:<64 hex digits>)", path, lineno);
			fclose(f);
			return false;
		}
		n_users++;
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	if (n_users == 0)
	{
		snprintf(err, errlen, "--admin-auth-file %s has no user:hash line", path);
		return false;
	}
	return true;
}

bool
admin_auth_enabled(void)
{
	return n_users > 0;
}

static bool
cached(const unsigned char key[DIGEST_LEN])
{
	bool		hit = false;

	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < cache_used; i++)
		hit |= CRYPTO_memcmp(cache[i], key, DIGEST_LEN) == 0;
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
remember(const unsigned char key[DIGEST_LEN])
{
	pthread_mutex_lock(&cache_lock);
	memcpy(cache[cache_next], key, DIGEST_LEN);
	cache_next = (cache_next + 1) % ADMIN_AUTH_CACHE;
	if (cache_used < ADMIN_AUTH_CACHE)
		cache_used++;
	pthread_mutex_unlock(&cache_lock);
}

/* Whether password matches u's hash (constant time for equal-length hashes). */
static bool
password_matches(const auth_user *u, const char *password, const unsigned char pw_digest[DIGEST_LEN])
{
	struct crypt_data *data;
	const char *out;
	bool		ok;

	if (u->is_sha256)
		return CRYPTO_memcmp(u->sha256, pw_digest, DIGEST_LEN) == 0;
	if (!(data = calloc(1, sizeof(struct crypt_data))))
		return false;
	out = crypt_r(password, u->crypt_hash, data);
	ok = out && out[0] != '*' && strlen(out) == strlen(u->crypt_hash) &&
		CRYPTO_memcmp(out, u->crypt_hash, strlen(out)) == 0;
	explicit_bzero(data, sizeof(struct crypt_data));
	free(data);
	return ok;
}

bool
admin_auth_check(const char *user, const char *password)
{
	unsigned char user_digest[DIGEST_LEN],
				pw_digest[DIGEST_LEN],
				key[DIGEST_LEN];
	size_t		ulen,
				plen;
	char	   *both;
	int			line = -1;
	bool		ok;

	if (!user || !password)
		return false;
	ulen = strlen(user);
	plen = strlen(password);
	if (!(both = malloc(ulen + plen + 1)))
		return false;
	memcpy(both, user, ulen + 1);
	memcpy(both + ulen + 1, password, plen);
	digest(both, ulen + 1 + plen, key);
	explicit_bzero(both, ulen + plen + 1);
	free(both);
	if (cached(key))
		return true;

	digest(user, ulen, user_digest);
	digest(password, plen, pw_digest);
	for (int i = 0; i < n_users; i++)
		if (CRYPTO_memcmp(users[i].user_digest, user_digest, DIGEST_LEN) == 0)
			line = i;
	/*
	 * The password is hashed once (bcrypt is slow on purpose), against the
	 * user's own line or, for an unknown user, the first line: both take
	 * the same time, so timing does not tell which users exist.
	 */
	ok = password_matches(&users[line >= 0 ? line : 0], password, pw_digest) && line >= 0;
	if (ok)
		remember(key);
	return ok;
}

void
admin_auth_free(void)
{
	for (int i = 0; i < n_users; i++)
		free(users[i].crypt_hash);
	free(users);
	users = NULL;
	n_users = 0;
}
