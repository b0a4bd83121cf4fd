/*
 * fuzz_authorized_keys.c - libFuzzer target for the key plugin's parsers
 * of remote and user bytes: the authorized_keys merge (install and
 * remove), a public key line, and the ssh-agent identities answer.
 * Seeds: corpus/authorized_keys/ (real files: options, CRLF, junk).
 *
 * Invariants checked: install keeps the old bytes as a prefix and adds
 * nothing when every key is present; remove never grows the file and is
 * idempotent; install after remove puts each key back exactly once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jc_plugin.h"
#include "../../plugins/keys/keys.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keylines[] = {
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFVINeBPY5RP4u+/1ULmzNFKdysElYIiwSonvT2hd8r a@test",
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHizJ/nYctg/ErUBt1h+CFfCaFoXxRW3IcZng8VCmqe6 b@test",
};

static struct keys_list keys;

static void
load_keys(void)
{
	struct keys_pub k;
	size_t i;

	if (keys.n > 0)
		return;
	for (i = 0; i < sizeof(keylines) / sizeof(keylines[0]); i++) {
		if (keys_pub_parse(keylines[i], strlen(keylines[i]), &k) != 0 ||
		    keys_list_add(&keys, &k) != 1)
			__builtin_trap();
	}
}

/* Number of lines of buf holding the key with this blob. */
static size_t
count_key(const char *buf, size_t len, const struct keys_pub *k)
{
	const char *p = buf, *nl, *end = buf + len;
	unsigned char *blob;
	size_t bl, n = 0;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (keys_ak_line_blob(p, (size_t)(nl - p), &blob, &bl) == 0) {
			n += bl == k->bloblen && memcmp(blob, k->blob, bl) == 0;
			free(blob);
		}
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct keys_list l;
	struct keys_pub k;
	char *a = NULL, *b = NULL, *c = NULL;
	size_t alen, blen, clen, i;
	int st[KEYS_MAX_KEYS], ch, ch2;

	load_keys();
	/* install: old bytes kept as a prefix */
	if (keys_ak_merge(in, size, &keys, JC_KEYS_INSTALL, st, &a, &alen,
	    &ch) != 0)
		return 0;
	if (alen < size || memcmp(a, in, size) != 0 || (!ch && alen != size))
		__builtin_trap();
	/* remove: never grows, then nothing more to remove */
	if (keys_ak_merge(a, alen, &keys, JC_KEYS_REMOVE, st, &b, &blen,
	    &ch) != 0)
		goto out;
	if (blen > alen)
		__builtin_trap();
	for (i = 0; i < keys.n; i++)
		if (count_key(b, blen, &keys.k[i]) != 0)
			__builtin_trap();
	/* install again: each key exactly once */
	if (keys_ak_merge(b, blen, &keys, JC_KEYS_INSTALL, st, &c, &clen,
	    &ch2) != 0)
		goto out;
	for (i = 0; i < keys.n; i++)
		if (count_key(c, clen, &keys.k[i]) != 1)
			__builtin_trap();
	/* the input as one public key line, and as an agent answer */
	if (keys_pub_parse(in, size, &k) == 0) {
		if (strchr(k.comment, '\n') != NULL ||
		    strchr(k.comment, '\r') != NULL)
			__builtin_trap();
		keys_pub_clear(&k);
	}
	memset(&l, 0, sizeof(l));
	(void)keys_agent_parse(data, size, &l);
	keys_list_clear(&l);
 out:
	free(a);
	free(b);
	free(c);
	return 0;
}
