/*
 * transport.c
 *		From libcurl's codes and what the callbacks saw to the facts the
 *		core's rule reads (core/transport_outcome.c).
 */
#include "transport.h"

#include <string.h>

/*
 * Called once the connection is ready (new, or kept alive), before the
 * request is written.  No connection opened yet in this transfer means a
 * kept-alive one carries it.  A second call is libcurl retrying on a fresh
 * connection because the kept-alive one died before any answer: the
 * request may have reached Meta, so it is never written again.
 */
static int
on_prereq(void *userp, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
	TransportWatch *w = userp;
	long		opened = 0;

	if (w->request_started)
		return CURL_PREREQFUNC_ABORT;
	w->request_started = true;
	if (curl_easy_getinfo(w->easy, CURLINFO_NUM_CONNECTS, &opened) != CURLE_OK || opened == 0)
		w->connection_reused = true;
	return CURL_PREREQFUNC_OK;
}

void
transport_watch(CURL *easy, TransportWatch *w, const char *body, size_t body_len)
{
	memset(w, 0, sizeof(*w));
	w->easy = easy;
	w->body = body;
	w->body_len = body ? body_len : 0;
	if (body)
	{
		/*
		 * Not copied: the caller keeps it until the transfer ends.  Given
		 * whole, libcurl writes a small body with the headers in one send
		 * (a read callback cost a second send, and a second packet for the
		 * server to read, per request).
		 */
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) w->body_len);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(easy, CURLOPT_PREREQDATA, w);

	/*
	 * HTTP/1.1 even where the server offers HTTP/2 (Meta's does; libcurl
	 * takes it over TLS by default).  On HTTP/2 a stream the server refused
	 * (RST_STREAM REFUSED_STREAM, or cut off by a GOAWAY while others stay
	 * open) was never processed, yet libcurl retries it by itself without
	 * saying so, and the second start is refused above like any other; a
	 * GOAWAY that cuts the last streams fails them with CURLE_HTTP2.  Either
	 * way a message Meta never saw would wait as ambiguous.  On HTTP/1.1
	 * every request has its connection to itself: the case the rule above
	 * is proven for (antiban.max_inflight connections at most per sender).
	 */
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
}

static TransportFailure
failure_of(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			return TRANSPORT_FAILED_RESOLVE;
		case CURLE_COULDNT_CONNECT:
			return TRANSPORT_FAILED_CONNECT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_USE_SSL_FAILED:
			return TRANSPORT_FAILED_TLS;
		case CURLE_OPERATION_TIMEDOUT:
			return TRANSPORT_FAILED_TIMEOUT;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_FAILED_INIT:
		case CURLE_OUT_OF_MEMORY:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_NOT_BUILT_IN:
			return TRANSPORT_FAILED_LOCAL;
		case CURLE_SEND_ERROR:
		case CURLE_SEND_FAIL_REWIND:
			return TRANSPORT_FAILED_SEND;
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_WRITE_ERROR:
			return TRANSPORT_FAILED_RECEIVE;
		default:
			return TRANSPORT_FAILED_OTHER;
	}
}

void
transport_facts(const TransportWatch *w, CURLcode rc, TransportFacts *out)
{
	out->failure = failure_of(rc);
	out->request_started = w->request_started;
	out->connection_reused = w->connection_reused;
	/*
	 * Headers and body go out in one write, right after the start: a
	 * request that started may have left whole.  libcurl's byte counts can
	 * not say otherwise (a retry that failed to reconnect reset them).
	 */
	out->body_withheld = w->body != NULL && w->body_len > 0 && !w->request_started;
}

TransportOutcome
transport_outcome(const TransportWatch *w, CURLcode rc)
{
	TransportFacts facts;

	if (rc == CURLE_OK)
		return TRANSPORT_OK;
	transport_facts(w, rc, &facts);
	return transport_failure_outcome(&facts);
}
