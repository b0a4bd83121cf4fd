/*
 * keys_ak.c - pure functions of the key plugin: public key parsing, the
 * authorized_keys merge, cksum(1), sh quoting, base64 and the agent's
 * identities answer.  No I/O, no logging: unit tests and the fuzzer call
 * these directly.
 */
#include <stdlib.h>
#include <string.h>

#include "keys.h"

#define TYPE_MAX	64		/* longest key type name accepted */
#define CERT_SUFFIX	"-cert-v01@openssh.com"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
keys_b64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned long acc = 0;
	size_t i, pad = 0, o = 0, nbits = 0;
	int v;

	/* Padding only at the end, at most two, and only to a multiple of 4. */
	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return -1;
	len -= pad;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64val((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (unsigned char)(acc >> nbits);
			acc &= (1UL << nbits) - 1;
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (acc != 0)
		return -1;
	return (long)o;
}

void
keys_b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;
	unsigned long v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned long)in[i] << 16;
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * The type name embedded at the start of a key blob; 0 with *name and *nlen
 * pointing into blob, or JC_ERR_PROTO.
 */
static int
blob_type(const unsigned char *blob, size_t len, const char **name,
    size_t *nlen)
{
	uint32_t n;
	size_t i;

	if (len < 4)
		return JC_ERR_PROTO;
	n = get_u32(blob);
	if (n == 0 || n > TYPE_MAX || n > len - 4)
		return JC_ERR_PROTO;
	for (i = 0; i < n; i++)
		if (blob[4 + i] <= ' ' || blob[4 + i] >= 0x7f)
			return JC_ERR_PROTO;
	/* A key has at least one more field after its type. */
	if (len - 4 - n < 4)
		return JC_ERR_PROTO;
	*name = (const char *)blob + 4;
	*nlen = n;
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy a comment with control characters made harmless. */
static char *
clean_comment(const char *s, size_t len)
{
	char *c;
	size_t i;

	while (len > 0 && (is_blank(*s) || *s == '\r' || *s == '\n')) {
		s++;
		len--;
	}
	while (len > 0 && (is_blank(s[len - 1]) || s[len - 1] == '\r' ||
	    s[len - 1] == '\n' || s[len - 1] == '\0'))
		len--;
	if ((c = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char u = (unsigned char)s[i];

		c[i] = (u < 0x20 || u == 0x7f) ? '?' : (char)u;
	}
	c[len] = '\0';
	return c;
}

void
keys_pub_clear(struct keys_pub *k)
{
	if (k == NULL)
		return;
	free(k->type);
	free(k->b64);
	free(k->blob);
	free(k->comment);
	free(k->origin);
	free(k->options);
	memset(k, 0, sizeof(*k));
}

int
keys_pub_set_origin(struct keys_pub *k, const char *s)
{
	char *o;

	if ((o = strdup(s)) == NULL)
		return JC_ERR_NOMEM;
	free(k->origin);
	k->origin = o;
	return 0;
}

int
keys_pub_is_cert(const struct keys_pub *k)
{
	size_t n = strlen(k->type), m = sizeof(CERT_SUFFIX) - 1;

	return n > m && strcmp(k->type + n - m, CERT_SUFFIX) == 0;
}

int
keys_pub_from_blob(const unsigned char *blob, size_t len,
    const char *comment, size_t commentlen, struct keys_pub *k)
{
	struct keys_pub t;
	const char *name;
	size_t nlen;
	int r = JC_ERR_NOMEM;

	memset(&t, 0, sizeof(t));
	if (len > KEYS_MAX_BLOB || blob_type(blob, len, &name, &nlen) != 0)
		return JC_ERR_PROTO;
	if ((t.type = malloc(nlen + 1)) == NULL ||
	    (t.blob = malloc(len)) == NULL ||
	    (t.b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL ||
	    (t.comment = clean_comment(comment ? comment : "",
	    comment ? commentlen : 0)) == NULL)
		goto out;
	memcpy(t.type, name, nlen);
	t.type[nlen] = '\0';
	memcpy(t.blob, blob, len);
	t.bloblen = len;
	keys_b64_encode(blob, len, t.b64);
	*k = t;
	memset(&t, 0, sizeof(t));
	r = 0;
 out:
	keys_pub_clear(&t);
	return r;
}

/*
 * Try "TYPE BASE64" at s: on success *blob is malloc'd, *end points just
 * after BASE64 and 0 is returned; JC_ERR_PROTO or JC_ERR_NOMEM.
 */
static int
parse_type_blob(const char *s, size_t len, unsigned char **blob,
    size_t *bloblen, size_t *end)
{
	size_t i = 0, t0, tlen, b0, blen, nlen;
	unsigned char *d;
	const char *name;
	long n;

	while (i < len && is_blank(s[i]))
		i++;
	t0 = i;
	while (i < len && !is_blank(s[i]) && s[i] != '\r' && s[i] != '\n')
		i++;
	tlen = i - t0;
	if (tlen == 0 || tlen > TYPE_MAX)
		return JC_ERR_PROTO;
	while (i < len && is_blank(s[i]))
		i++;
	b0 = i;
	while (i < len && !is_blank(s[i]) && s[i] != '\r' && s[i] != '\n')
		i++;
	blen = i - b0;
	if (blen < 8 || blen > (KEYS_MAX_BLOB / 3 + 1) * 4)
		return JC_ERR_PROTO;
	if ((d = malloc(blen * 3 / 4 + 3)) == NULL)
		return JC_ERR_NOMEM;
	if ((n = keys_b64_decode(s + b0, blen, d)) < 0 ||
	    blob_type(d, (size_t)n, &name, &nlen) != 0 || nlen != tlen ||
	    memcmp(name, s + t0, tlen) != 0) {
		free(d);
		return JC_ERR_PROTO;
	}
	*blob = d;
	*bloblen = (size_t)n;
	*end = i;
	return 0;
}

int
keys_pub_parse(const char *s, size_t len, struct keys_pub *k)
{
	unsigned char *blob = NULL;
	size_t bloblen, end;
	int r;

	if ((r = parse_type_blob(s, len, &blob, &bloblen, &end)) != 0)
		return r;
	r = keys_pub_from_blob(blob, bloblen, s + end, len - end, k);
	free(blob);
	return r;
}

/* Skip an options field: up to the first blank outside double quotes. */
static size_t
skip_options(const char *s, size_t len, size_t i)
{
	int quoted = 0;

	for (; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len && s[i + 1] == '"')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && is_blank(s[i]))
			break;
	}
	return i;
}

int
keys_ak_line_blob(const char *line, size_t len, unsigned char **blob,
    size_t *bloblen)
{
	size_t i = 0, end;
	int r;

	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#' || line[i] == '\r')
		return JC_ERR_PROTO;
	if ((r = parse_type_blob(line + i, len - i, blob, bloblen,
	    &end)) != JC_ERR_PROTO)
		return r;
	/* Not a key at the start: options first, then the key. */
	i = skip_options(line, len, i);
	if (i == len)
		return JC_ERR_PROTO;
	return parse_type_blob(line + i, len - i, blob, bloblen, &end);
}

int
keys_ak_line_parse(const char *s, size_t len, struct keys_pub *k)
{
	unsigned char *blob = NULL;
	size_t i = 0, o0, olen, bloblen, end;
	int r;

	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return JC_ERR_PROTO;
	if ((r = parse_type_blob(s + i, len - i, &blob, &bloblen,
	    &end)) != JC_ERR_PROTO) {
		if (r != 0)
			return r;
		r = keys_pub_from_blob(blob, bloblen, s + i + end,
		    len - i - end, k);
		free(blob);
		return r;
	}
	o0 = i;
	i = skip_options(s, len, i);
	olen = i - o0;
	if (i == len)
		return JC_ERR_PROTO;
	for (end = o0; end < o0 + olen; end++)
		if ((unsigned char)s[end] < 0x20 || s[end] == 0x7f)
			return JC_ERR_PROTO;
	if ((r = parse_type_blob(s + i, len - i, &blob, &bloblen,
	    &end)) != 0)
		return r;
	r = keys_pub_from_blob(blob, bloblen, s + i + end, len - i - end, k);
	free(blob);
	if (r != 0)
		return r;
	if ((k->options = malloc(olen + 1)) == NULL) {
		keys_pub_clear(k);
		return JC_ERR_NOMEM;
	}
	memcpy(k->options, s + o0, olen);
	k->options[olen] = '\0';
	return 0;
}

int
keys_list_find(const struct keys_list *l, const unsigned char *blob,
    size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->k[i].bloblen == len &&
		    memcmp(l->k[i].blob, blob, len) == 0)
			return (int)i;
	return -1;
}

int
keys_list_add(struct keys_list *l, struct keys_pub *k)
{
	if (keys_list_find(l, k->blob, k->bloblen) >= 0) {
		keys_pub_clear(k);
		return 0;
	}
	if (l->n >= KEYS_MAX_KEYS) {
		keys_pub_clear(k);
		return JC_ERR_USAGE;
	}
	l->k[l->n++] = *k;
	memset(k, 0, sizeof(*k));
	return 1;
}

void
keys_list_clear(struct keys_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		keys_pub_clear(&l->k[i]);
	l->n = 0;
}

static void
put(char *out, size_t *o, const void *p, size_t n)
{
	memcpy(out + *o, p, n);
	*o += n;
}

int
keys_ak_merge(const char *old, size_t oldlen, const struct keys_list *keys,
    int op, int *st, char **out, size_t *outlen, int *changed)
{
	unsigned char *blob;
	const char *line, *nl;
	char *buf;
	size_t pos, len, term, cap, o = 0, i, bloblen;
	int found[KEYS_MAX_KEYS], crlf = 0, ch = 0, k, r;

	if (op != JC_KEYS_INSTALL && op != JC_KEYS_REMOVE)
		return JC_ERR_USAGE;
	if (old == NULL)
		oldlen = 0;
	memset(found, 0, sizeof(found));
	/* Worst case: old, a line ending, then each key on its own line. */
	cap = oldlen + 3;
	for (i = 0; i < keys->n; i++)
		cap += strlen(keys->k[i].type) + strlen(keys->k[i].b64) +
		    strlen(keys->k[i].comment) + 4 + (keys->k[i].options ?
		    strlen(keys->k[i].options) + 1 : 0);
	if ((buf = malloc(cap)) == NULL)
		return JC_ERR_NOMEM;
	for (pos = 0; pos < oldlen; pos += len + term) {
		line = old + pos;
		nl = memchr(line, '\n', oldlen - pos);
		len = nl != NULL ? (size_t)(nl - line) : oldlen - pos;
		term = nl != NULL;
		if (nl != NULL)
			crlf = len > 0 && line[len - 1] == '\r';
		k = -1;
		r = keys_ak_line_blob(line, len, &blob, &bloblen);
		if (r == JC_ERR_NOMEM) {
			free(buf);
			return r;
		}
		if (r == 0) {
			k = keys_list_find(keys, blob, bloblen);
			free(blob);
		}
		if (k >= 0)
			found[k]++;
		if (k >= 0 && op == JC_KEYS_REMOVE) {
			ch = 1;
			continue;
		}
		put(buf, &o, line, len + term);
	}
	for (i = 0; i < keys->n; i++) {
		if (op == JC_KEYS_REMOVE) {
			if (st != NULL)
				st[i] = found[i] ? KEYS_ST_REMOVED :
				    KEYS_ST_ABSENT;
			continue;
		}
		if (found[i]) {
			if (st != NULL)
				st[i] = KEYS_ST_PRESENT;
			continue;
		}
		/* End an unterminated last line before appending. */
		if (o > 0 && buf[o - 1] == '\r')
			put(buf, &o, "\n", 1);
		else if (o > 0 && buf[o - 1] != '\n')
			put(buf, &o, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		if (keys->k[i].options != NULL) {
			put(buf, &o, keys->k[i].options,
			    strlen(keys->k[i].options));
			put(buf, &o, " ", 1);
		}
		put(buf, &o, keys->k[i].type, strlen(keys->k[i].type));
		put(buf, &o, " ", 1);
		put(buf, &o, keys->k[i].b64, strlen(keys->k[i].b64));
		if (keys->k[i].comment[0] != '\0') {
			put(buf, &o, " ", 1);
			put(buf, &o, keys->k[i].comment,
			    strlen(keys->k[i].comment));
		}
		put(buf, &o, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		ch = 1;
		if (st != NULL)
			st[i] = KEYS_ST_ADDED;
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	*changed = ch;
	return 0;
}

static uint32_t
crc_byte(uint32_t crc, unsigned char b)
{
	int i;

	crc ^= (uint32_t)b << 24;
	for (i = 0; i < 8; i++)
		crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	return crc;
}

uint32_t
keys_cksum(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0;
	size_t i, n;

	for (i = 0; i < len; i++)
		crc = crc_byte(crc, p[i]);
	/* Then the length, least significant byte first, no zero bytes. */
	for (n = len; n != 0; n >>= 8)
		crc = crc_byte(crc, (unsigned char)(n & 0xff));
	return ~crc;
}

int
keys_sh_quote(char *dst, size_t dstsz, const char *s)
{
	size_t o = strlen(dst), need = 2, i;

	for (i = 0; s[i] != '\0'; i++)
		need += s[i] == '\'' ? 4 : 1;
	if (o + need + 1 > dstsz)
		return JC_ERR_NOMEM;
	dst[o++] = '\'';
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'') {
			memcpy(dst + o, "'\\''", 4);
			o += 4;
		} else
			dst[o++] = s[i];
	}
	dst[o++] = '\'';
	dst[o] = '\0';
	return 0;
}

/* Read a uint32-length string at *off; 0 or JC_ERR_PROTO. */
static int
get_string(const unsigned char *m, size_t len, size_t *off,
    const unsigned char **s, size_t *slen)
{
	uint32_t n;

	if (len - *off < 4)
		return JC_ERR_PROTO;
	n = get_u32(m + *off);
	*off += 4;
	if (n > len - *off)
		return JC_ERR_PROTO;
	*s = m + *off;
	*slen = n;
	*off += n;
	return 0;
}

int
keys_agent_parse(const unsigned char *msg, size_t len, struct keys_list *l)
{
	struct keys_pub k;
	const unsigned char *blob, *comment;
	size_t off = 5, bloblen, clen;
	uint32_t nkeys, i;
	int r;

	/* SSH2_AGENT_IDENTITIES_ANSWER = 12, then uint32 count. */
	if (len < 5 || msg[0] != 12)
		return JC_ERR_PROTO;
	nkeys = get_u32(msg + 1);
	/* Each key takes at least 8 bytes: refuse absurd counts early. */
	if (nkeys > (len - 5) / 8)
		return JC_ERR_PROTO;
	for (i = 0; i < nkeys; i++) {
		if (get_string(msg, len, &off, &blob, &bloblen) != 0 ||
		    get_string(msg, len, &off, &comment, &clen) != 0)
			return JC_ERR_PROTO;
		r = keys_pub_from_blob(blob, bloblen, (const char *)comment,
		    clen, &k);
		if (r == JC_ERR_NOMEM)
			return r;
		if (r != 0)
			continue;	/* a type we cannot name: skip it */
		if (keys_pub_is_cert(&k)) {
			keys_pub_clear(&k);
			continue;
		}
		if ((r = keys_pub_set_origin(&k, "ssh-agent")) != 0) {
			keys_pub_clear(&k);
			return r;
		}
		if (keys_list_add(l, &k) == JC_ERR_USAGE)
			break;
	}
	return (int)nkeys;
}
