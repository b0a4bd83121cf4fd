/*
 * ssm_warm.c - connections to Session Manager's data-channel host made
 * ahead of their StreamUrl.
 *
 * Every StreamUrl of a region names the same host (ssmmessages.REGION.
 * amazonaws.com on AWS), and a new WebSocket costs a TCP and a TLS
 * handshake before its upgrade.  So while the target is still resolved
 * and StartSession asked, a few connections to the host that the last
 * StreamUrl of the region named are made beside them; a StreamUrl of
 * that origin then finds its connection ready and only the upgrade is
 * left (2 of its 3 round trips off the way to the URL).  One taken is
 * replaced while the tunnel is set up (WARM_SETUP_MS: the compressed
 * path's session and the key installs' come then).  The origin is a
 * memo the core keeps between runs (host->memo_get/memo_put), learnt
 * from every StreamUrl; a connection nobody adopts is closed after
 * WARM_KEEP_MS, and one that fails is dropped without a word.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ssm_host.h"
#include "ssm_warm.h"
#include "ssm_ws.h"

#define WARM_MAX	2	/* the way to the URL opens two sessions */
#define WARM_KEEP_MS	10000	/* unadopted this long: closed */
#define WARM_CONNECT_MS	10000
/*
 * A tunnel's set-up opens its sessions within this (the compressed
 * path's, the key installs'): one taken is replaced until then.
 */
#define WARM_SETUP_MS	20000

static struct {
	struct ssm_ws	*ws[WARM_MAX];
	int64_t		 until[WARM_MAX];
	int		 n;
	struct jc_source *src;
	char		 origin[320];	/* the StreamUrls' origin, as remembered */
	int64_t		 refill_until;
} warm;

static int
host_memos(void)
{
	return JC_HOST_HAS(ssm_host, memo_get) &&
	    JC_HOST_HAS(ssm_host, memo_put) &&
	    JC_HOST_HAS(ssm_host, aws_region) &&
	    JC_HOST_HAS(ssm_host, source_add_light);
}

/* The memo's key: the origin is the region's. */
static int
memo_key(char *key, size_t n)
{
	const char *region = host_memos() ? ssm_host->aws_region() : NULL;

	return region != NULL && (size_t)snprintf(key, n, "stream_origin.%s",
	    region) < n ? 0 : -1;
}

/* Take connection i off the list (the caller frees or keeps it). */
static void
unlist(int i)
{
	warm.n--;
	/* Keep the order of age. */
	memmove(&warm.ws[i], &warm.ws[i + 1], (size_t)(warm.n - i) *
	    sizeof(warm.ws[0]));
	memmove(&warm.until[i], &warm.until[i + 1], (size_t)(warm.n - i) *
	    sizeof(warm.until[0]));
	warm.ws[warm.n] = NULL;
	if (warm.n == 0 && warm.src != NULL) {
		ssm_host->source_del(warm.src);
		warm.src = NULL;
	}
}

static void
drop(int i)
{
	struct ssm_ws *ws = warm.ws[i];

	unlist(i);
	ssm_ws_free(ws);
}

static void
warm_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	int i;

	(void)arg;
	for (i = 0; i < warm.n; i++) {
		ssm_ws_connect_prepare(warm.ws[i], ps, deadline);
		if (*deadline < 0 || warm.until[i] < *deadline)
			*deadline = warm.until[i];
	}
}

static void
warm_dispatch(void *arg, struct jc_pollset *ps)
{
	int64_t now = ssm_host->now_ms();
	int i;

	(void)arg;
	for (i = warm.n - 1; i >= 0; i--)
		if (ssm_ws_connect_step(warm.ws[i], ps) != 0) {
			ssm_log(JC_LOG_DEBUG, "a connection made ahead failed: "
			    "%s", ssm_ws_why(warm.ws[i]));
			drop(i);
		} else if (now >= warm.until[i])
			drop(i);
}

static const struct jc_source_ops warm_ops = {
	warm_prepare,
	warm_dispatch,
};

/* One more connection to warm.origin: 0, or -1. */
static int
warm_one(void)
{
	struct ssm_ws *ws;
	char why[256];

	if (warm.n == WARM_MAX || ssm_ws_preconnect(warm.origin,
	    ssm_ca_bundle(), WARM_CONNECT_MS, &ws, why, sizeof(why)) != 0)
		return -1;
	/* Light: it moves while the target's resolution waits on AWS. */
	if (warm.src == NULL &&
	    (warm.src = ssm_host->source_add_light(&warm_ops, NULL)) == NULL) {
		ssm_ws_free(ws);
		return -1;
	}
	warm.ws[warm.n] = ws;
	warm.until[warm.n++] = ssm_host->now_ms() + WARM_KEEP_MS;
	return 0;
}

void
ssm_warm_ahead(void)
{
	char key[96];

	if (warm.n > 0 || memo_key(key, sizeof(key)) != 0 ||
	    ssm_host->memo_get("ssm", key, warm.origin,
	    sizeof(warm.origin)) != 0)
		return;
	warm.refill_until = ssm_host->now_ms() + WARM_SETUP_MS;
	while (warm_one() == 0)
		;
	if (warm.n > 0)
		ssm_log(JC_LOG_DEBUG, "%d connection%s to %s made ahead",
		    warm.n, warm.n == 1 ? "" : "s", warm.origin);
}

/* Closed by the far end while it waited? (Bytes waiting are fine.) */
static int
went_away(const struct ssm_ws *ws)
{
	char c;
	ssize_t k;

	if (ssm_ws_state(ws) != SSM_WS_IDLE)
		return ssm_ws_state(ws) != SSM_WS_CONNECTING;
	k = recv(ssm_ws_fd(ws), &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

struct ssm_ws *
ssm_warm_take(const char *url, ssm_ws_msg_fn *on_msg, void *arg)
{
	struct ssm_ws *ws;
	int i;

	/* The oldest first: the likeliest to be connected already. */
	for (i = 0; i < warm.n; i++) {
		if (went_away(warm.ws[i])) {
			drop(i--);
			continue;
		}
		if (ssm_ws_adopt(warm.ws[i], url, on_msg, arg) != 0)
			continue;
		ws = warm.ws[i];
		unlist(i);
		ssm_log(JC_LOG_DEBUG, "the WebSocket takes a connection made "
		    "ahead");
		if (ssm_host->now_ms() < warm.refill_until)
			(void)warm_one();
		return ws;
	}
	return NULL;
}

void
ssm_warm_learn(const char *url)
{
	char key[96], origin[320];

	if (ssm_ws_origin(url, origin, sizeof(origin)) != 0 ||
	    strcmp(origin, warm.origin) == 0 ||
	    memo_key(key, sizeof(key)) != 0)
		return;
	snprintf(warm.origin, sizeof(warm.origin), "%s", origin);
	ssm_host->memo_put("ssm", key, origin);
}

void
ssm_warm_fini(void)
{
	while (warm.n > 0)
		drop(warm.n - 1);
	memset(&warm, 0, sizeof(warm));
}
