/*
 * transport_check.c
 *		POST the same small body N times on one libcurl handle (one kept-alive
 *		connection) through src/cloudapi/transport.c, as the sender's client
 *		does, and print what each attempt's failure means:
 *
 *			transport_check URL N
 *			1 OK HTTP/1.1
 *			2 AMBIGUOUS couldn't connect
 *
 *		(an answered request with the HTTP version it went over).  For an
 *		https URL, TRANSPORT_CHECK_CAINFO names the CA file to trust.
 *		TAP 039 points it at servers that misbehave on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cloudapi/transport.h"

static size_t
discard(char *p, size_t size, size_t n, void *u)
{
	return size * n;
}

static const char *
outcome_name(TransportOutcome o)
{
	switch (o)
	{
		case TRANSPORT_OK:
			return "OK";
		case TRANSPORT_NOT_SENT:
			return "NOT_SENT";
		case TRANSPORT_AMBIGUOUS:
			return "AMBIGUOUS";
	}
	return "?";
}

static const char *
http_version_name(CURL *easy)
{
	long		version = 0;

	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
	switch (version)
	{
		case CURL_HTTP_VERSION_1_0:
			return "HTTP/1.0";
		case CURL_HTTP_VERSION_1_1:
			return "HTTP/1.1";
		case CURL_HTTP_VERSION_2_0:
			return "HTTP/2";
		case CURL_HTTP_VERSION_3:
			return "HTTP/3";
	}
	return "?";
}

int
main(int argc, char **argv)
{
	const char *body = "{\"messaging_product\": \"whatsapp\", \"to\": \"+5511999999999\", \"type\": \"text\"}";
	struct curl_slist *headers;
	CURLM	   *multi;
	CURL	   *easy;
	int			n;

	if (argc != 3 || (n = atoi(argv[2])) <= 0)
	{
		fprintf(stderr, "usage: transport_check URL N\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	easy = curl_easy_init();
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	for (int i = 1; i <= n; i++)
	{
		TransportWatch w;
		CURLcode	rc = CURLE_OK;
		CURLMsg    *msg;
		int			running,
					queued;

		curl_easy_reset(easy);
		transport_watch(easy, &w, body, strlen(body));
		curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
		if (getenv("TRANSPORT_CHECK_CAINFO"))
			curl_easy_setopt(easy, CURLOPT_CAINFO, getenv("TRANSPORT_CHECK_CAINFO"));
		curl_multi_add_handle(multi, easy);
		do
		{
			curl_multi_perform(multi, &running);
			if (running)
				curl_multi_poll(multi, NULL, 0, 100, NULL);
		} while (running);
		while ((msg = curl_multi_info_read(multi, &queued)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				rc = msg->data.result;
		printf("%d %s %s\n", i, rc == CURLE_OK ? "OK" : outcome_name(transport_outcome(&w, rc)),
			   rc == CURLE_OK ? http_version_name(easy) : curl_easy_strerror(rc));
		fflush(stdout);
		curl_multi_remove_handle(multi, easy);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(easy);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return 0;
}
