/*
 * client.c
 *		libcurl multi: many POSTs in flight, connections kept alive.
 *
 * One rule above speed: a request must never be sent twice by the HTTP
 * layer.  libcurl silently re-sends a request when a reused connection turns
 * out dead after sending, which for a POST to Meta could mean a duplicate
 * message.  So transport.c's watch refuses the second start of a request:
 * libcurl then fails with CURLE_ABORTED_BY_CALLBACK, the outcome is
 * ambiguous (core/transport_outcome.c) and the sender waits for evidence
 * instead of sending again blindly.
 */
#include "client.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define MAX_ANSWER_BYTES (256 * 1024)

typedef struct Transfer
{
	CURL	   *easy;
	int64_t		id;
	char	   *body;
	TransportWatch watch;		/* what became of the body */
	char	   *answer;
	size_t		answer_len;
	size_t		answer_cap;
	int64_t		retry_after_us;
	struct curl_slist *headers;
	struct Transfer *next_free;	/* in the free list */
	struct Transfer *prev_active;	/* in the in-flight list */
	struct Transfer *next_active;
	char		error[CURL_ERROR_SIZE];
} Transfer;

struct CloudApiClient
{
	CURLM	   *multi;
	long		timeout_ms;
	long		connect_timeout_ms;
	int			inflight;
	Transfer   *free_list;
	Transfer   *active;
};

static bool curl_ready = false;

static size_t
on_write(char *data, size_t size, size_t n, void *userp)
{
	Transfer   *t = userp;
	size_t		len = size * n;

	if (t->answer_len + len > MAX_ANSWER_BYTES)
		return len;				/* keep the start; Meta's answers are small */
	if (t->answer_len + len + 1 > t->answer_cap)
	{
		size_t		cap = (t->answer_len + len + 1) * 2;
		char	   *grown = realloc(t->answer, cap);

		if (grown == NULL)
			return 0;
		t->answer = grown;
		t->answer_cap = cap;
	}
	memcpy(t->answer + t->answer_len, data, len);
	t->answer_len += len;
	t->answer[t->answer_len] = '\0';
	return len;
}

static size_t
on_header(char *line, size_t size, size_t n, void *userp)
{
	Transfer   *t = userp;
	size_t		len = size * n;

	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0)
		t->retry_after_us = (int64_t) strtol(line + 12, NULL, 10) * 1000000;
	return len;
}

CloudApiClient *
cloudapi_create(long timeout_ms, long connect_timeout_ms)
{
	CloudApiClient *c;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = true;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->multi = curl_multi_init()) == NULL)
	{
		free(c);
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->connect_timeout_ms = connect_timeout_ms;
	return c;
}

void
cloudapi_set_timeouts(CloudApiClient *c, long timeout_ms, long connect_timeout_ms)
{
	c->timeout_ms = timeout_ms;
	c->connect_timeout_ms = connect_timeout_ms;
}

static void
transfer_free(Transfer *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t->answer);
	free(t);
}

void
cloudapi_destroy(CloudApiClient *c)
{
	if (c == NULL)
		return;
	/* transfers still in flight are abandoned: their rows stay leased */
	while (c->active)
	{
		Transfer   *t = c->active;

		c->active = t->next_active;
		curl_multi_remove_handle(c->multi, t->easy);
		transfer_free(t);
	}
	while (c->free_list)
	{
		Transfer   *t = c->free_list;

		c->free_list = t->next_free;
		transfer_free(t);
	}
	curl_multi_cleanup(c->multi);
	free(c);
}

static Transfer *
transfer_get(CloudApiClient *c)
{
	Transfer   *t = c->free_list;

	if (t)
	{
		c->free_list = t->next_free;
		curl_easy_reset(t->easy);
		return t;
	}
	t = calloc(1, sizeof(*t));
	if (t && (t->easy = curl_easy_init()) == NULL)
	{
		free(t);
		t = NULL;
	}
	return t;
}

static void
transfer_put(CloudApiClient *c, Transfer *t)
{
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	free(t->body);
	t->body = NULL;
	t->answer_len = 0;
	t->next_free = c->free_list;
	c->free_list = t;
}

static void
set_options(CloudApiClient *c, Transfer *t, const char *url, size_t body_len)
{
	CURL	   *e = t->easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	transport_watch(e, &t->watch, t->body, body_len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "antiban/" ANTIBAN_VERSION);
}

/* A POST of 'body', or a GET when it is NULL. */
static bool
submit(CloudApiClient *c, int64_t id, const char *url, const char *bearer_token, const char *body)
{
	Transfer   *t;
	char		auth[1024];
	size_t		body_len = body ? strlen(body) : 0;

	t = transfer_get(c);
	if (t == NULL)
		return false;
	t->id = id;
	t->body = NULL;
	t->retry_after_us = 0;
	t->error[0] = '\0';
	if (body && (t->body = malloc(body_len + 1)) == NULL)
	{
		transfer_put(c, t);
		return false;
	}
	if (body)
		memcpy(t->body, body, body_len + 1);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer_token);
	t->headers = curl_slist_append(NULL, auth);
	if (body)
	{
		t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
		/* no "Expect: 100-continue" round trip for larger bodies */
		t->headers = curl_slist_append(t->headers, "Expect:");
	}
	set_options(c, t, url, body_len);
	if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
	{
		transfer_put(c, t);
		return false;
	}
	t->prev_active = NULL;
	t->next_active = c->active;
	if (c->active)
		c->active->prev_active = t;
	c->active = t;
	c->inflight++;
	return true;
}

bool
cloudapi_submit(CloudApiClient *c, int64_t id, const char *url,
				const char *bearer_token, const char *body)
{
	/* an empty token or body is a bug upstream: never let it reach Meta */
	if (bearer_token == NULL || bearer_token[0] == '\0' || body == NULL || body[0] == '\0')
		return false;
	return submit(c, id, url, bearer_token, body);
}

bool
cloudapi_submit_get(CloudApiClient *c, int64_t id, const char *url, const char *bearer_token)
{
	if (bearer_token == NULL || bearer_token[0] == '\0')
		return false;
	return submit(c, id, url, bearer_token, NULL);
}

int
cloudapi_inflight(const CloudApiClient *c)
{
	return c->inflight;
}

static void
collect(CloudApiClient *c, CURL *easy, CURLcode rc, CloudApiResult *r)
{
	Transfer   *t;
	curl_off_t	total_us = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
	memset(r, 0, sizeof(*r));
	r->id = t->id;
	r->retry_after_us = t->retry_after_us;
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
	r->total_ms = (double) total_us / 1000.0;
	if (rc == CURLE_OK)
	{
		r->transport = TRANSPORT_OK;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->http_status);
		cloudapi_parse_answer(t->answer ? t->answer : "", t->answer_len, r->http_status, &r->answer);
	}
	else
	{
		r->transport = transport_outcome(&t->watch, rc);
		transport_facts(&t->watch, rc, &r->facts);
		r->answer.error_code = -1;
		snprintf(r->transport_error, sizeof(r->transport_error), "%s%s%s (after %.0f ms%s)",
				 curl_easy_strerror(rc), t->error[0] ? ": " : "", t->error, r->total_ms,
				 r->transport == TRANSPORT_AMBIGUOUS ? "; it may have reached Meta" : "; nothing was sent");
	}
	curl_multi_remove_handle(c->multi, easy);
	if (t->prev_active)
		t->prev_active->next_active = t->next_active;
	else
		c->active = t->next_active;
	if (t->next_active)
		t->next_active->prev_active = t->prev_active;
	c->inflight--;
	transfer_put(c, t);
}

int
cloudapi_poll(CloudApiClient *c, int timeout_ms, CloudApiResult *out, int max)
{
	int			running = 0;
	int			queued;
	int			n = 0;
	CURLMsg    *msg;

	curl_multi_perform(c->multi, &running);
	if (c->inflight > 0 && timeout_ms > 0)
	{
		curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
		curl_multi_perform(c->multi, &running);
	}
	while (n < max && (msg = curl_multi_info_read(c->multi, &queued)) != NULL)
	{
		if (msg->msg != CURLMSG_DONE)
			continue;
		collect(c, msg->easy_handle, msg->data.result, &out[n++]);
	}
	return n;
}
