/*
 * receiver_load.c — load that antiban-receiver did not ask for, and the
 * normal traffic measured through it (bench/receiver_load.sh builds and
 * runs this).  One thread, one epoll loop, non-blocking sockets, each bound
 * to a chosen loopback source address (the whole of 127/8 is local).
 *
 *   slow    N connections that send one byte a second, for ever: "headers"
 *           trickle the request, "body" send complete headers (a 1 MB
 *           Content-Length) and trickle the body, "mixed" alternate.  A
 *           connection the server closes is counted (at once: under 1 s
 *           after connecting, else cut) and opened again a second later.
 *   steady  signed POSTs at a fixed rate, one new connection each (as Meta
 *           opens them), each timed from when it was due, not from when
 *           it could be sent, so a stalled server shows as latency.
 *   burst   N connections opened together, each sending one signed POST.
 *
 * Each prints key=value lines for the script.  Bodies come from a file of
 * "signature<TAB>body" lines (bench/webhook_bodies.sql).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

typedef enum
{
	IDLE, CONNECTING, SENDING, READING, TRICKLING
} conn_state;

typedef struct conn
{
	int			fd;
	conn_state	state;
	int			kind;			/* slow: 0 headers, 1 body */
	double		due;			/* steady, burst: when it was due (s) */
	double		opened;			/* slow: when connect() was called */
	double		reopen_at;		/* slow: when to connect again */
	const char *req;			/* the bytes to send */
	size_t		req_len,
				sent;
	char		resp[64];
	size_t		got;
} conn;

static const char *host = "127.0.0.1";
static int	port;
static const char *path = "/webhook";
static struct in_addr *froms;
static int	n_froms;
static int	ep;
static double t0;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail(const char *what)
{
	perror(what);
	exit(2);
}

/* "a,b,c" or "a-b" (same /24), into froms */
static void
parse_froms(const char *spec)
{
	char	   *copy = strdup(spec),
			   *save = NULL,
			   *dash;

	if ((dash = strchr(copy, '-')))
	{
		struct in_addr a,
					b;

		*dash = '\0';
		if (!inet_aton(copy, &a) || !inet_aton(dash + 1, &b) || ntohl(b.s_addr) < ntohl(a.s_addr))
			fail("--from range");
		n_froms = ntohl(b.s_addr) - ntohl(a.s_addr) + 1;
		froms = calloc(n_froms, sizeof(*froms));
		for (int i = 0; i < n_froms; i++)
			froms[i].s_addr = htonl(ntohl(a.s_addr) + i);
		return;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		froms = realloc(froms, (n_froms + 1) * sizeof(*froms));
		if (!inet_aton(tok, &froms[n_froms++]))
			fail("--from address");
	}
}

/* A non-blocking connect from the i-th source address; -1 if refused at once. */
static int
open_conn(conn *c, int i)
{
	struct sockaddr_in src = {.sin_family = AF_INET},
				dst = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c};
	int			one = 1;

	src.sin_addr = froms[i % n_froms];
	inet_aton(host, &dst.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		fail("socket");
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *) &src, sizeof(src)) != 0)
		fail("bind");
	c->sent = c->got = 0;
	c->state = CONNECTING;
	if (connect(c->fd, (struct sockaddr *) &dst, sizeof(dst)) != 0 && errno != EINPROGRESS)
	{
		close(c->fd);
		c->fd = -1;
		c->state = IDLE;
		return -1;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		fail("epoll_ctl");
	return 0;
}

static void
close_conn(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = IDLE;
}

static void
raise_fd_limit(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max)
	{
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

/* ---- signed POSTs (steady, burst) ---- */

static char **posts;
static size_t *post_lens;
static int	n_posts;

static void
load_bodies(const char *file)
{
	FILE	   *f = fopen(file, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	if (!f)
		fail(file);
	while ((len = getline(&line, &cap, f)) > 0)
	{
		char	   *tab = strchr(line, '\t'),
				   *req;
		size_t		body_len;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!tab)
			continue;
		*tab = '\0';
		body_len = strlen(tab + 1);
		posts = realloc(posts, (n_posts + 1) * sizeof(*posts));
		post_lens = realloc(post_lens, (n_posts + 1) * sizeof(*post_lens));
		if (asprintf(&req, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
					 "X-Hub-Signature-256: %s\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
					 path, host, port, line, body_len, tab + 1) < 0)
			fail("asprintf");
		posts[n_posts] = req;
		post_lens[n_posts++] = strlen(req);
	}
	fclose(f);
	if (n_posts == 0)
	{
		fprintf(stderr, "no bodies in %s\n", file);
		exit(2);
	}
}

/* Outcomes of the POSTs of one run. */
static double *latencies,
		   *answered_at;
static int	n_answered,
			n_ok,
			n_other_status,
			n_refused,
			n_reset,
			n_timeout;

static void
answered(conn *c, double t)
{
	int			status = 0;

	if (sscanf(c->resp, "HTTP/1.%*d %d", &status) == 1 && status == 200)
		n_ok++;
	else
		n_other_status++;
	latencies[n_answered] = t - c->due;
	answered_at[n_answered++] = t - t0;
	close_conn(c);
}

/* One event on a POST connection: connected, writable, readable or gone. */
static void
post_event(conn *c, uint32_t events)
{
	if (c->state == IDLE)
		return;					/* closed earlier in this batch of events */
	if (c->state == CONNECTING)
	{
		int			err = 0;
		socklen_t	len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
		{
			n_refused++;
			close_conn(c);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->state = SENDING;
	}
	if (c->state == SENDING && (events & EPOLLOUT))
	{
		ssize_t		n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
		{
			n_reset++;
			close_conn(c);
			return;
		}
		if (n > 0 && (c->sent += n) == c->req_len)
		{
			struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};

			c->state = READING;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
	{
		ssize_t		n = recv(c->fd, c->resp + c->got, sizeof(c->resp) - 1 - c->got, 0);

		if (n > 0)
		{
			c->got += n;
			c->resp[c->got] = '\0';
			if (strstr(c->resp, "\r\n") || c->got == sizeof(c->resp) - 1)
				answered(c, now());
		}
		else if (n == 0 || errno != EAGAIN)
		{
			n_reset++;
			close_conn(c);
		}
	}
}

static void
start_post(conn *c, int i, double due)
{
	c->due = due;
	c->req = posts[i % n_posts];
	c->req_len = post_lens[i % n_posts];
	if (open_conn(c, i) != 0)
		n_refused++;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
percentile(double *v, int n, double p)
{
	if (n == 0)
		return -1;
	return v[(int) ((n - 1) * p + 0.5)];
}

/* POSTs still out when the time is up: no answer. */
static void
expire(conn *cs, int n, double deadline)
{
	for (int i = 0; i < n; i++)
		if (cs[i].state != IDLE && now() >= deadline)
		{
			n_timeout++;
			close_conn(&cs[i]);
		}
}

static void
report_posts(int sent, double window)
{
	double		gap = 0,
				prev = 0;

	qsort(latencies, n_answered, sizeof(double), cmp_double);
	qsort(answered_at, n_answered, sizeof(double), cmp_double);
	for (int i = 0; i < n_answered; i++)
	{
		if (answered_at[i] - prev > gap)
			gap = answered_at[i] - prev;
		prev = answered_at[i];
	}
	if (window > prev && window - prev > gap)
		gap = window - prev;
	printf("sent=%d\nanswered=%d\nok=%d\nother_status=%d\nrefused=%d\nreset=%d\nno_answer=%d\n",
		   sent, n_answered, n_ok, n_other_status, n_refused, n_reset, n_timeout);
	printf("p50_ms=%.1f\np99_ms=%.1f\nmax_ms=%.1f\nlongest_gap_ms=%.0f\n",
		   1000 * percentile(latencies, n_answered, 0.5), 1000 * percentile(latencies, n_answered, 0.99),
		   1000 * percentile(latencies, n_answered, 1.0), 1000 * gap);
}

/* Runs the loop until every connection is idle or the deadline passes. */
static void
drain_posts(conn *cs, int n, double deadline)
{
	struct epoll_event evs[256];

	for (;;)
	{
		int			busy = 0,
					k;

		for (int i = 0; i < n; i++)
			busy += cs[i].state != IDLE;
		if (busy == 0 || now() >= deadline)
			break;
		k = epoll_wait(ep, evs, 256, 50);
		for (int i = 0; i < k; i++)
			post_event(evs[i].data.ptr, evs[i].events);
	}
	expire(cs, n, deadline);
}

static int
run_steady(double rate, double seconds, double timeout)
{
	int			total = (int) (rate * seconds);
	conn	   *cs = calloc(total, sizeof(conn));
	struct epoll_event evs[256];
	int			next = 0;

	latencies = calloc(total, sizeof(double));
	answered_at = calloc(total, sizeof(double));
	for (int i = 0; i < total; i++)
		cs[i].fd = -1;
	t0 = now();
	while (next < total)
	{
		double		t = now();
		int			k,
					wait_ms;

		while (next < total && t0 + next / rate <= t)
		{
			start_post(&cs[next], next, t0 + next / rate);
			next++;
		}
		/* a POST not answered within the timeout is given up */
		for (int i = 0; i < next; i++)
			if (cs[i].state != IDLE && t - cs[i].due > timeout)
			{
				n_timeout++;
				close_conn(&cs[i]);
			}
		wait_ms = next < total ? (int) ((t0 + next / rate - now()) * 1000) : 0;
		k = epoll_wait(ep, evs, 256, wait_ms < 0 ? 0 : wait_ms);
		for (int i = 0; i < k; i++)
			post_event(evs[i].data.ptr, evs[i].events);
	}
	drain_posts(cs, total, t0 + (total - 1) / rate + timeout);
	report_posts(total, seconds);
	return 0;
}

static int
run_burst(int count, double timeout)
{
	conn	   *cs = calloc(count, sizeof(conn));
	double		deadline;

	latencies = calloc(count, sizeof(double));
	answered_at = calloc(count, sizeof(double));
	t0 = now();
	for (int i = 0; i < count; i++)
		start_post(&cs[i], i, now());
	printf("all_connects_issued_ms=%.0f\n", 1000 * (now() - t0));
	deadline = now() + timeout;
	drain_posts(cs, count, deadline);
	report_posts(count, 0);
	return 0;
}

/* ---- slow connections ---- */

#define SLOW_BODY_LENGTH 1000000
static const char slow_head[] = "POST /webhook HTTP/1.1\r\nHost: receiver\r\n";
static char *slow_headers_full;
static int	n_slow_opened,
			n_slow_refused,
			n_slow_at_once,
			n_slow_cut,
			n_slow_answered;
static double *cut_life;		/* lifetimes of the connections cut */
static double *cut_when;		/* and when they were cut */
static int	cut_cap;

/* The next byte a "headers" connection sends: the head, then X-a: b lines. */
static char
header_byte(size_t i)
{
	static const char more[] = "X-a: b\r\n";

	if (i < sizeof(slow_head) - 1)
		return slow_head[i];
	return more[(i - (sizeof(slow_head) - 1)) % (sizeof(more) - 1)];
}

static void
slow_open(conn *c, int i)
{
	c->opened = now();
	n_slow_opened++;
	if (open_conn(c, i) != 0)
	{
		n_slow_refused++;
		c->reopen_at = now() + 1;
	}
}

static void
slow_closed(conn *c, double t, bool answer)
{
	double		life = t - c->opened;

	if (answer)
		n_slow_answered++;
	if (life < 1.0 && !answer)
		n_slow_at_once++;
	else
	{
		if (n_slow_cut == cut_cap)
		{
			cut_cap = cut_cap ? 2 * cut_cap : 1024;
			cut_life = realloc(cut_life, cut_cap * sizeof(double));
			cut_when = realloc(cut_when, cut_cap * sizeof(double));
		}
		cut_life[n_slow_cut] = life;
		cut_when[n_slow_cut++] = t - t0;
	}
	close_conn(c);
	c->reopen_at = t + 1;
}

static void
slow_event(conn *c, uint32_t events)
{
	if (c->state == IDLE)
		return;
	if (c->state == CONNECTING)
	{
		int			err = 0;
		socklen_t	len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
		{
			n_slow_refused++;
			close_conn(c);
			c->reopen_at = now() + 1;
			return;
		}
		if (events & EPOLLOUT)
		{
			struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};

			c->state = TRICKLING;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			/* a body connection sends its whole headers at once */
			if (c->kind == 1)
				(void) send(c->fd, slow_headers_full, strlen(slow_headers_full), MSG_NOSIGNAL);
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
	{
		char		buf[512];
		ssize_t		n = recv(c->fd, buf, sizeof(buf), 0);

		if (n > 0 || n == 0 || errno != EAGAIN)
			slow_closed(c, now(), n > 0);
	}
}

/* Once a second: a byte from every open connection, reopen the closed. */
static void
slow_tick(conn *cs, int count)
{
	double		t = now();

	for (int i = 0; i < count; i++)
	{
		conn	   *c = &cs[i];

		if (c->state == IDLE && t >= c->reopen_at)
			slow_open(c, i);
		else if (c->state == TRICKLING)
		{
			char		b = c->kind == 0 ? header_byte(c->sent) : 'x';

			if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1)
				c->sent++;
			else if (errno != EAGAIN)
				slow_closed(c, t, false);
		}
	}
}

static int
run_slow(int count, double seconds, const char *kind, const char *status_file)
{
	conn	   *cs = calloc(count, sizeof(conn));
	struct epoll_event evs[256];
	double		next_tick,
				end;
	FILE	   *status = status_file ? fopen(status_file, "w") : NULL;
	int			max_open = 0;

	if (asprintf(&slow_headers_full, "%sContent-Type: application/json\r\n"
				 "X-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n",
				 slow_head, SLOW_BODY_LENGTH) < 0)
		fail("asprintf");
	t0 = now();
	for (int i = 0; i < count; i++)
	{
		cs[i].fd = -1;
		cs[i].kind = strcmp(kind, "body") == 0 ? 1 : strcmp(kind, "headers") == 0 ? 0 : i % 2;
		slow_open(&cs[i], i);
	}
	next_tick = t0 + 1;
	end = t0 + seconds;
	while (now() < end)
	{
		int			k = epoll_wait(ep, evs, 256, 50),
					open = 0;

		for (int i = 0; i < k; i++)
			slow_event(evs[i].data.ptr, evs[i].events);
		if (now() >= next_tick)
		{
			slow_tick(cs, count);
			next_tick += 1;
			for (int i = 0; i < count; i++)
				open += cs[i].state == TRICKLING;
			if (open > max_open)
				max_open = open;
			/* how many the attacker holds now, for the script to wait on */
			if (status)
			{
				rewind(status);
				fprintf(status, "%d %.0f %d\n", open, now() - t0, n_slow_cut);
				fflush(status);
			}
		}
	}
	qsort(cut_life, n_slow_cut, sizeof(double), cmp_double);
	qsort(cut_when, n_slow_cut, sizeof(double), cmp_double);
	printf("slow_connects=%d\nslow_max_open=%d\nslow_refused=%d\nslow_closed_at_once=%d\n"
		   "slow_cut=%d\nslow_answered=%d\n",
		   n_slow_opened, max_open, n_slow_refused, n_slow_at_once, n_slow_cut, n_slow_answered);
	printf("slow_cut_first_s=%.1f\nslow_cut_last_s=%.1f\nslow_cut_life_min_s=%.1f\n"
		   "slow_cut_life_p50_s=%.1f\nslow_cut_life_max_s=%.1f\n",
		   n_slow_cut ? cut_when[0] : -1, n_slow_cut ? cut_when[n_slow_cut - 1] : -1,
		   n_slow_cut ? cut_life[0] : -1, percentile(cut_life, n_slow_cut, 0.5),
		   n_slow_cut ? cut_life[n_slow_cut - 1] : -1);
	if (status)
		fclose(status);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: receiver_load slow|steady|burst --port N [--host A] [--from A,B|A-B]\n"
			"  slow:   --count N --seconds S [--kind headers|body|mixed] [--status-file F]\n"
			"  steady: --bodies F --rate R --seconds S [--timeout S]\n"
			"  burst:  --bodies F --count N [--timeout S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode,
			   *bodies = NULL,
			   *kind = "mixed",
			   *status_file = NULL;
	int			count = 0;
	double		seconds = 30,
				rate = 50,
				timeout = 30;

	if (argc < 2)
		usage();
	mode = argv[1];
	parse_froms("127.0.0.1");
	for (int i = 2; i + 1 < argc; i += 2)
	{
		const char *k = argv[i],
				   *v = argv[i + 1];

		if (!strcmp(k, "--port"))
			port = atoi(v);
		else if (!strcmp(k, "--host"))
			host = v;
		else if (!strcmp(k, "--from"))
		{
			free(froms);
			froms = NULL;
			n_froms = 0;
			parse_froms(v);
		}
		else if (!strcmp(k, "--count"))
			count = atoi(v);
		else if (!strcmp(k, "--seconds"))
			seconds = atof(v);
		else if (!strcmp(k, "--rate"))
			rate = atof(v);
		else if (!strcmp(k, "--timeout"))
			timeout = atof(v);
		else if (!strcmp(k, "--bodies"))
			bodies = v;
		else if (!strcmp(k, "--kind"))
			kind = v;
		else if (!strcmp(k, "--status-file"))
			status_file = v;
		else if (!strcmp(k, "--path"))
			path = v;
		else
			usage();
	}
	if (port <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fail("epoll_create1");
	if (!strcmp(mode, "slow") && count > 0)
		return run_slow(count, seconds, kind, status_file);
	if (bodies)
		load_bodies(bodies);
	if (!strcmp(mode, "steady") && bodies)
		return run_steady(rate, seconds, timeout);
	if (!strcmp(mode, "burst") && bodies && count > 0)
		return run_burst(count, timeout);
	usage();
	return 2;
}
