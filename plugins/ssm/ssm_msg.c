/*
 * ssm_msg.c - the Session Manager ClientMessage codec, UUIDs, acks, the
 * handshake JSON and small payload parsers.  Pure functions: no I/O, no
 * host calls, so unit tests and fuzzers drive them directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "compat.h"
#include "ssm_host.h"
#include "ssm_msg.h"

/* ---- byte order ---------------------------------------------------------- */

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- random bytes and SHA-256 for the hot path ------------------------- */

/*
 * A pool refilled 4 KiB at a time: two draws per message (MessageId and
 * WebSocket mask) would otherwise take OpenSSL's DRBG lock each time.
 * The bytes are the DRBG's all the same; the pool is wiped when freed.
 */
static unsigned char rpool[4096];
static size_t rpool_left;

int
ssm_rand(void *buf, size_t n)
{
	unsigned char *b = buf;
	size_t k;

	while (n > 0) {
		if (rpool_left == 0) {
			if (RAND_bytes(rpool, sizeof(rpool)) != 1)
				return JC_ERR_INTERNAL;
			rpool_left = sizeof(rpool);
		}
		k = n < rpool_left ? n : rpool_left;
		memcpy(b, rpool + sizeof(rpool) - rpool_left, k);
		jc_wipe(rpool + sizeof(rpool) - rpool_left, k);
		rpool_left -= k;
		b += k;
		n -= k;
	}
	return 0;
}

/* SHA256() fetches the algorithm on every call; fetch it once. */
static EVP_MD *sha_md;
static EVP_MD_CTX *sha_ctx;

void
ssm_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (sha_md == NULL && (sha_md = EVP_MD_fetch(NULL, "SHA256",
	    NULL)) == NULL)
		goto slow;
	if (sha_ctx == NULL && (sha_ctx = EVP_MD_CTX_new()) == NULL)
		goto slow;
	if (EVP_DigestInit_ex2(sha_ctx, sha_md, NULL) == 1 &&
	    EVP_DigestUpdate(sha_ctx, p, n) == 1 &&
	    EVP_DigestFinal_ex(sha_ctx, out, &len) == 1)
		return;
 slow:
	SHA256(p, n, out);
}

void
ssm_msg_cleanup(void)
{
	EVP_MD_CTX_free(sha_ctx);
	EVP_MD_free(sha_md);
	sha_ctx = NULL;
	sha_md = NULL;
	jc_wipe(rpool, sizeof(rpool));
	rpool_left = 0;
}

uint64_t
ssm_epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)(ts.tv_nsec / 1000000);
}

/* ---- UUIDs ------------------------------------------------------------- */

void
ssm_uuid_new(unsigned char id[16])
{
	if (ssm_rand(id, 16) != 0) {
		/* Uniqueness is all that matters here; never a secret. */
		uint64_t t = ssm_epoch_ms() ^ (uint64_t)(uintptr_t)id;
		size_t i;

		for (i = 0; i < 16; i++) {
			t = t * 6364136223846793005ULL + 1442695040888963407ULL;
			id[i] = (unsigned char)(t >> 56);
		}
	}
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);	/* version 4 */
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);	/* RFC 4122 */
}

void
ssm_uuid_fmt(const unsigned char id[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[id[i] >> 4];
		out[o++] = hex[id[i] & 0xf];
	}
	out[o] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ssm_uuid_parse(const char *s, unsigned char id[16])
{
	size_t i, n = 0;
	int hi, lo;

	if (strlen(s) != 36)
		return JC_ERR_PROTO;
	for (i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return JC_ERR_PROTO;
			continue;
		}
		if ((hi = hexval((unsigned char)s[i])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 1])) < 0)
			return JC_ERR_PROTO;
		id[n++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* The wire form holds the two 8-byte halves in the other order. */
void
ssm_uuid_swap(const unsigned char in[16], unsigned char out[16])
{
	unsigned char t[16];

	memcpy(t, in + 8, 8);
	memcpy(t + 8, in, 8);
	memcpy(out, t, 16);
}

/* ---- frames ------------------------------------------------------------ */

static int
trim_char(unsigned char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
ssm_msg_decode(const void *frame, size_t len, struct ssm_msg *m)
{
	int r;

	if ((r = ssm_msg_decode_hdr(frame, len, m)) != 0)
		return r;
	return ssm_msg_check_digest(m);
}

int
ssm_msg_check_digest(const struct ssm_msg *m)
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	/* The reference skips every check for these two. */
	if (strcmp(m->type, SSM_MT_START_PUB) == 0 ||
	    strcmp(m->type, SSM_MT_PAUSE_PUB) == 0 || m->plen == 0)
		return 0;
	ssm_sha256(m->payload, m->plen, d);
	return memcmp(d, m->digest, sizeof(d)) == 0 ? 0 : JC_ERR_PROTO;
}

int
ssm_msg_decode_hdr(const void *frame, size_t len, struct ssm_msg *m)
{
	const unsigned char *f = frame;
	size_t a = 0, b = SSM_TYPE_LEN, i;

	memset(m, 0, sizeof(*m));
	if (len < SSM_FRAME_HDR)
		return JC_ERR_PROTO;
	m->hdrlen = get32(f);
	if (m->hdrlen != SSM_HDR_LEN)
		return JC_ERR_PROTO;
	/* Left-aligned with spaces (Go) or right-aligned with NULs (npm). */
	while (a < b && trim_char(f[4 + a]))
		a++;
	while (b > a && trim_char(f[4 + b - 1]))
		b--;
	for (i = a; i < b; i++)
		if (f[4 + i] < 0x21 || f[4 + i] > 0x7e)
			return JC_ERR_PROTO;
	memcpy(m->type, f + 4 + a, b - a);
	m->type[b - a] = '\0';
	m->schema = get32(f + 36);
	m->created = get64(f + 40);
	m->seq = (int64_t)get64(f + 48);
	m->flags = get64(f + 56);
	ssm_uuid_swap(f + 64, m->id);
	memcpy(m->digest, f + 80, 32);
	m->ptype = get32(f + 112);
	m->plen = get32(f + 116);
	if ((size_t)m->plen != len - SSM_FRAME_HDR)
		return JC_ERR_PROTO;
	m->payload = f + SSM_FRAME_HDR;
	/* The reference skips every check for these two. */
	if (strcmp(m->type, SSM_MT_START_PUB) == 0 ||
	    strcmp(m->type, SSM_MT_PAUSE_PUB) == 0)
		return 0;
	if (m->type[0] == '\0' || m->created == 0)
		return JC_ERR_PROTO;
	return 0;
}

void
ssm_msg_seal(unsigned char *frame, const char *type, uint64_t created,
    int64_t seq, uint64_t flags, const unsigned char id[16], uint32_t ptype,
    uint32_t plen)
{
	size_t tl = strlen(type);

	if (tl > SSM_TYPE_LEN)
		tl = SSM_TYPE_LEN;
	put32(frame, SSM_HDR_LEN);
	memset(frame + 4, ' ', SSM_TYPE_LEN);
	memcpy(frame + 4, type, tl);
	put32(frame + 36, 1);
	put64(frame + 40, created);
	put64(frame + 48, (uint64_t)seq);
	put64(frame + 56, flags);
	ssm_uuid_swap(id, frame + 64);
	ssm_sha256(frame + SSM_FRAME_HDR, plen, frame + 80);
	put32(frame + 112, ptype);
	put32(frame + 116, plen);
}

unsigned char *
ssm_msg_new(const char *type, int64_t seq, uint64_t flags, uint32_t ptype,
    const void *payload, size_t plen, size_t *lenp)
{
	unsigned char *f, id[16];

	if (plen > UINT32_MAX - SSM_FRAME_HDR)
		return NULL;
	if ((f = malloc(SSM_FRAME_HDR + plen)) == NULL)
		return NULL;
	if (plen > 0)
		memcpy(f + SSM_FRAME_HDR, payload, plen);
	ssm_uuid_new(id);
	ssm_msg_seal(f, type, ssm_epoch_ms(), seq, flags, id, ptype,
	    (uint32_t)plen);
	*lenp = SSM_FRAME_HDR + plen;
	return f;
}

/* ---- acks -------------------------------------------------------------- */

int
ssm_ack_json(char *out, size_t n, const char *type, const unsigned char id[16],
    int64_t seq)
{
	char ids[37];
	const char *c;
	int r;

	for (c = type; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return JC_ERR_INTERNAL;
	ssm_uuid_fmt(id, ids);
	r = snprintf(out, n, "{\"AcknowledgedMessageType\":\"%s\","
	    "\"AcknowledgedMessageId\":\"%s\","
	    "\"AcknowledgedMessageSequenceNumber\":%lld,"
	    "\"IsSequentialMessage\":true}", type, ids, (long long)seq);
	if (r < 0 || (size_t)r >= n)
		return JC_ERR_INTERNAL;
	return r;
}

/* An integral JSON number in [0, 2^53]. */
static int
json_seq(const cJSON *j, int64_t *v)
{
	double d;

	if (!cJSON_IsNumber(j))
		return JC_ERR_PROTO;
	d = j->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
		return JC_ERR_PROTO;
	*v = (int64_t)d;
	return 0;
}

/*
 * The sequence number of an ack without building a JSON tree: acks come
 * once per message we send.  Only the reference's flat form is taken
 * this way; anything else goes to cJSON.
 */
/* Does k start a member name of the outermost object that begins at p? */
static int
top_level(const char *p, const char *k)
{
	int depth = 0, str = 0;

	for (; p < k; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = 0;
		} else if (*p == '"')
			str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
	}
	return p == k && !str && depth == 1 && (k[-1] == '{' || k[-1] == ',');
}

static int
ack_fast(const char *p, size_t n, int64_t *seq)
{
	static const char key[] = "\"AcknowledgedMessageSequenceNumber\":";
	const char *k, *end = p + n;
	int64_t v = 0;
	int digits = 0;

	if (n < sizeof(key) || p[0] != '{' || p[n - 1] != '}')
		return -1;
	for (k = p + 1; k + sizeof(key) - 1 <= end; k++)
		if (*k == '"' && memcmp(k, key, sizeof(key) - 1) == 0)
			break;
	if (k + sizeof(key) - 1 > end || !top_level(p, k))
		return -1;
	for (k += sizeof(key) - 1; k < end && *k >= '0' && *k <= '9'; k++) {
		if (++digits > 15)
			return -1;
		v = v * 10 + (*k - '0');
	}
	if (digits == 0 || k >= end || (*k != ',' && *k != '}'))
		return -1;
	*seq = v;
	return 0;
}

int
ssm_ack_parse(const void *p, size_t n, int64_t *seq)
{
	cJSON *root;
	int r;

	if (ack_fast(p, n, seq) == 0)
		return 0;
	if ((root = cJSON_ParseWithLength(p, n)) == NULL)
		return JC_ERR_PROTO;
	r = json_seq(cJSON_GetObjectItemCaseSensitive(root,
	    "AcknowledgedMessageSequenceNumber"), seq);
	cJSON_Delete(root);
	return r;
}

/* ---- versions ---------------------------------------------------------- */

static int
ver_split(const char *s, unsigned long v[8])
{
	int n = 0;
	unsigned long x;
	size_t digits;

	if (s == NULL || *s == '\0')
		return -1;
	for (;;) {
		x = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (++digits > 9)
				return -1;
			x = x * 10 + (unsigned long)(*s++ - '0');
		}
		if (digits == 0 || n == 8)
			return -1;
		v[n++] = x;
		if (*s == '\0')
			return n;
		if (*s++ != '.')
			return -1;
	}
}

int
ssm_version_cmp(const char *a, const char *b)
{
	unsigned long va[8], vb[8];
	int na, nb, i;

	if ((na = ver_split(a, va)) < 0 || (nb = ver_split(b, vb)) < 0 ||
	    na != nb)
		return SSM_VER_BAD;
	for (i = 0; i < na; i++) {
		if (va[i] < vb[i])
			return -1;
		if (va[i] > vb[i])
			return 1;
	}
	return 0;
}

/* ---- handshake --------------------------------------------------------- */

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static void
copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

static int
known_session_type(const char *t)
{
	return strcmp(t, "Port") == 0 || strcmp(t, "Standard_Stream") == 0 ||
	    strcmp(t, "InteractiveCommands") == 0 ||
	    strcmp(t, "NonInteractiveCommands") == 0;
}

int
ssm_hs_parse(const void *p, size_t n, struct ssm_hs *hs)
{
	const cJSON *acts, *a, *params, *props;
	cJSON *root;
	struct ssm_hs_action *x;
	const char *t, *st;
	int r = JC_ERR_PROTO;

	memset(hs, 0, sizeof(*hs));
	if ((root = cJSON_ParseWithLength(p, n)) == NULL)
		return JC_ERR_PROTO;
	if (!cJSON_IsObject(root))
		goto out;
	copy_str(hs->agent_version, sizeof(hs->agent_version),
	    jstr(root, "AgentVersion"));
	acts = cJSON_GetObjectItemCaseSensitive(root, "RequestedClientActions");
	if (!cJSON_IsArray(acts))
		goto out;
	cJSON_ArrayForEach(a, acts) {
		if (hs->nact == SSM_HS_MAX_ACTIONS || !cJSON_IsObject(a))
			goto out;
		x = &hs->act[hs->nact++];
		t = jstr(a, "ActionType");
		copy_str(x->type, sizeof(x->type), t);
		params = cJSON_GetObjectItemCaseSensitive(a,
		    "ActionParameters");
		if (t != NULL && strcmp(t, "SessionType") == 0) {
			st = jstr(params, "SessionType");
			if (st == NULL || !known_session_type(st)) {
				x->status = SSM_ACT_FAILED;
				snprintf(x->error, sizeof(x->error),
				    "unknown session type %.60s",
				    st != NULL ? st : "(none)");
				continue;
			}
			copy_str(hs->session_type, sizeof(hs->session_type),
			    st);
			props = cJSON_GetObjectItemCaseSensitive(params,
			    "Properties");
			copy_str(hs->prop_type, sizeof(hs->prop_type),
			    jstr(props, "type"));
			copy_str(hs->prop_port, sizeof(hs->prop_port),
			    jstr(props, "portNumber"));
			x->status = SSM_ACT_SUCCESS;
		} else if (t != NULL && strcmp(t, "KMSEncryption") == 0) {
			hs->kms = 1;
			x->status = SSM_ACT_FAILED;
			snprintf(x->error, sizeof(x->error), "KMS-encrypted "
			    "sessions are not supported by this client");
		} else {
			x->status = SSM_ACT_UNSUPPORTED;
			snprintf(x->error, sizeof(x->error), "action %.60s is "
			    "not supported by this client",
			    t != NULL ? t : "(none)");
		}
	}
	r = 0;
 out:
	cJSON_Delete(root);
	return r;
}

char *
ssm_hs_response(const struct ssm_hs *hs)
{
	cJSON *root, *arr, *o, *errs = NULL;
	char *s = NULL;
	int i;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "ClientVersion",
	    SSM_CLIENT_VERSION) == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "ProcessedClientActions")) ==
	    NULL)
		goto out;
	for (i = 0; i < hs->nact; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (cJSON_AddStringToObject(o, "ActionType",
		    hs->act[i].type) == NULL ||
		    cJSON_AddNumberToObject(o, "ActionStatus",
		    hs->act[i].status) == NULL ||
		    cJSON_AddNullToObject(o, "ActionResult") == NULL ||
		    cJSON_AddStringToObject(o, "Error",
		    hs->act[i].error) == NULL)
			goto out;
		if (hs->act[i].status == SSM_ACT_SUCCESS)
			continue;
		if (errs == NULL && (errs = cJSON_AddArrayToObject(root,
		    "Errors")) == NULL)
			goto out;
		cJSON_AddItemToArray(errs,
		    cJSON_CreateString(hs->act[i].error));
	}
	if (errs == NULL && cJSON_AddNullToObject(root, "Errors") == NULL)
		goto out;
	s = cJSON_PrintUnformatted(root);
 out:
	cJSON_Delete(root);
	return s;
}

int
ssm_hs_complete(const void *p, size_t n, char *msg, size_t msglen)
{
	cJSON *root;
	const char *m;

	if ((root = cJSON_ParseWithLength(p, n)) == NULL)
		return JC_ERR_PROTO;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return JC_ERR_PROTO;
	}
	m = jstr(root, "CustomerMessage");
	copy_str(msg, msglen, m);
	cJSON_Delete(root);
	return 0;
}

int
ssm_closed_parse(const void *p, size_t n, char *out, size_t outlen)
{
	cJSON *root;

	if ((root = cJSON_ParseWithLength(p, n)) == NULL)
		return JC_ERR_PROTO;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return JC_ERR_PROTO;
	}
	copy_str(out, outlen, jstr(root, "Output"));
	cJSON_Delete(root);
	return 0;
}

int
ssm_exit_parse(const void *p, size_t n, int *code)
{
	static const char pfx[] = "EXIT_CODE:";
	const char *s = p;
	size_t i = sizeof(pfx) - 1, digits = 0;
	long v = 0;
	int neg = 0;

	if (n < i || memcmp(s, pfx, i) != 0)
		return JC_ERR_PROTO;
	while (i < n && s[i] == ' ')
		i++;
	if (i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (++digits > 9)
			return JC_ERR_PROTO;
		v = v * 10 + (s[i++] - '0');
	}
	while (i < n && (s[i] == '\r' || s[i] == '\n' || s[i] == ' '))
		i++;
	if (digits == 0 || i != n)
		return JC_ERR_PROTO;
	*code = (int)(neg ? -v : v);
	return 0;
}

/* Append s as a JSON string body (quotes not included). */
static size_t
json_escape(char *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			memcpy(out + o, "\\u00", 4);
			o += 4;
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		} else
			out[o++] = (char)c;
	}
	return o;
}

char *
ssm_open_json(const char *token, const char *client_id)
{
	static const char a[] = "{\"MessageSchemaVersion\":\"1.0\","
	    "\"RequestId\":\"";
	static const char b[] = "\",\"TokenValue\":\"";
	static const char c[] = "\",\"ClientId\":\"";
	static const char d[] = "\",\"ClientVersion\":\"" SSM_CLIENT_VERSION
	    "\"}";
	unsigned char rid[16];
	char rids[37], *s;
	size_t n, o = 0;

	n = sizeof(a) + sizeof(b) + sizeof(c) + sizeof(d) + 37 +
	    6 * strlen(token) + 6 * strlen(client_id) + 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	ssm_uuid_new(rid);
	ssm_uuid_fmt(rid, rids);
	memcpy(s + o, a, sizeof(a) - 1);
	o += sizeof(a) - 1;
	memcpy(s + o, rids, 36);
	o += 36;
	memcpy(s + o, b, sizeof(b) - 1);
	o += sizeof(b) - 1;
	o += json_escape(s + o, token);
	memcpy(s + o, c, sizeof(c) - 1);
	o += sizeof(c) - 1;
	o += json_escape(s + o, client_id);
	memcpy(s + o, d, sizeof(d));	/* with the NUL */
	return s;
}

void
ssm_port_mode(const struct ssm_hs *hs, int *mux, int *keepalive, int *raw)
{
	int local = strcmp(hs->prop_type, "LocalPortForwarding") == 0;

	*raw = !local;
	*mux = local && ssm_version_cmp(hs->agent_version, "3.0.196.0") == 1;
	*keepalive = *mux &&
	    ssm_version_cmp(hs->agent_version, "3.1.1511.0") != 1;
}
