/*
 * http_once.c
 *		One blocking HTTP request with libcurl easy, for the monitor.
 *
 * The monitor makes a few calls a minute, each bounded by a timeout; a
 * handle per call keeps it simple (the sender's many POSTs use curl multi).
 * A failure says whether the request may have arrived (transport.c), as the
 * sender's do: an alert post that timed out after sending may have been
 * delivered.
 */
#include "http_once.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpOnce   *r = arg;
	size_t		n = size * nmemb;
	char	   *grown;

	if (r->len + n > HTTP_ONCE_MAX_BODY)
		return 0;				/* too big: curl fails the transfer */
	grown = realloc(r->body, r->len + n + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + r->len, data, n);
	r->body = grown;
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

bool
http_once(const char *url, const char *bearer_token, const char *json_body,
		  long timeout_ms, HttpOnce *out)
{
	CURL	   *h = curl_easy_init();
	struct curl_slist *headers = NULL;
	char		auth[1024];
	TransportWatch watch;
	CURLcode	rc;

	memset(out, 0, sizeof(*out));
	if (h == NULL)
	{
		snprintf(out->error, sizeof(out->error), "could not initialise libcurl");
		out->transport = TRANSPORT_NOT_SENT;
		return false;
	}
	if (bearer_token && bearer_token[0])
	{
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer_token);
		headers = curl_slist_append(headers, auth);
	}
	if (json_body)
	{
		headers = curl_slist_append(headers, "Content-Type: application/json");
		/* no "Expect: 100-continue" round trip for larger bodies */
		headers = curl_slist_append(headers, "Expect:");
	}
	transport_watch(h, &watch, json_body, json_body ? strlen(json_body) : 0);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	out->transport = transport_outcome(&watch, rc);
	out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	else
		snprintf(out->error, sizeof(out->error), "%s%s", curl_easy_strerror(rc),
				 out->transport == TRANSPORT_AMBIGUOUS ? " (the request may have arrived)" : " (nothing was sent)");
	curl_slist_free_all(headers);
	memset(auth, 0, sizeof(auth));
	curl_easy_cleanup(h);
	return rc == CURLE_OK;
}

void
http_once_free(HttpOnce *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

bool
http_escape(const char *s, char *out, size_t size)
{
	char	   *e = curl_easy_escape(NULL, s, 0);
	bool		fits = e && strlen(e) < size;

	if (fits)
		strcpy(out, e);
	curl_free(e);
	return fits;
}

bool
graph_error(const char *body, char *message, size_t size, int *code)
{
	json_object *root = body ? json_tokener_parse(body) : NULL;
	json_object *error,
			   *v;
	bool		found = false;

	*code = -1;
	message[0] = '\0';
	if (root && json_object_object_get_ex(root, "error", &error))
	{
		if (json_object_object_get_ex(error, "message", &v))
			snprintf(message, size, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(error, "code", &v))
			*code = json_object_get_int(v);
		found = true;
	}
	json_object_put(root);
	return found;
}

bool
graph_next_cursor(const char *body, char *cursor, size_t size)
{
	json_object *root = body ? json_tokener_parse(body) : NULL;
	json_object *paging,
			   *cursors,
			   *after,
			   *next;
	bool		found = false;

	cursor[0] = '\0';
	if (root && json_object_object_get_ex(root, "paging", &paging) &&
		json_object_object_get_ex(paging, "next", &next) &&
		json_object_object_get_ex(paging, "cursors", &cursors) &&
		json_object_object_get_ex(cursors, "after", &after))
	{
		snprintf(cursor, size, "%s", json_object_get_string(after));
		found = cursor[0] != '\0';
	}
	json_object_put(root);
	return found;
}
