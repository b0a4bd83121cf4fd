/*
 * fuzz_ssh_config.c - libFuzzer target for ssh-config's merge of a marked
 * Host block into any bytes a user's ssh config may hold.
 * Seeds: corpus/ssh_config/ (CRLF, no final newline, Host * and Match,
 * blocks of other targets, an existing block, broken markers).
 *
 * Invariants checked: every old byte is kept, in order, around a single
 * insertion (or replacement) point; the block is in exactly once; a
 * second merge of the same block changes nothing; replacing the block
 * and putting the first one back gives the first result again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jc_plugin.h"
#include "sshconfig.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define B1 "# >>> jconnect g >>>\nHost g\n    User a\n# <<< jconnect g <<<\n"
#define B2 "# >>> jconnect g >>>\nHost g\n    User bb\n# <<< jconnect g <<<\n"

/* Lines of buf that are the begin marker of g (CR and blanks aside). */
static size_t
count_begin(const char *buf, size_t len)
{
	const char *p = buf, *nl, *end = buf + len, *m = "# >>> jconnect g >>>";
	size_t n = 0, l, ml = strlen(m);

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' ||
		    p[l - 1] == '\t'))
			l--;
		while (l > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			l--;
		}
		n += l == ml && memcmp(p, m, ml) == 0;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *a = NULL, *b = NULL, *c = NULL, *d = NULL, why[400];
	size_t alen, blen, clen, dlen, pre, suf;
	int ch;

	if (jc_sshcfg_merge(in, size, "g", B1, &a, &alen, &ch, why,
	    sizeof(why)) != 0)
		return 0;
	if (ch == JC_SSHCFG_ADDED) {
		/* The old bytes: a prefix and a suffix of the result. */
		for (pre = 0; pre < size && pre < alen && a[pre] == in[pre];
		    pre++)
			;
		for (suf = 0; suf < size - pre && suf < alen - pre &&
		    a[alen - 1 - suf] == in[size - 1 - suf]; suf++)
			;
		if (pre + suf != size || alen <= size)
			__builtin_trap();
	}
	if (ch == JC_SSHCFG_SAME && (alen != size || memcmp(a, in, size) != 0))
		__builtin_trap();
	if (count_begin(a, alen) != 1)
		__builtin_trap();
	if (jc_sshcfg_merge(a, alen, "g", B1, &b, &blen, &ch, why,
	    sizeof(why)) != 0 || ch != JC_SSHCFG_SAME || blen != alen ||
	    memcmp(a, b, alen) != 0)
		__builtin_trap();
	if (jc_sshcfg_merge(a, alen, "g", B2, &c, &clen, &ch, why,
	    sizeof(why)) != 0 || ch != JC_SSHCFG_UPDATED ||
	    count_begin(c, clen) != 1)
		__builtin_trap();
	if (jc_sshcfg_merge(c, clen, "g", B1, &d, &dlen, &ch, why,
	    sizeof(why)) != 0 || dlen != alen || memcmp(a, d, alen) != 0)
		__builtin_trap();
	free(a);
	free(b);
	free(c);
	free(d);
	return 0;
}
