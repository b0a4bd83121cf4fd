/*
 * fuzz_target.c - libFuzzer target for the TARGET grammar (user bytes:
 * argv, ssh's %h in ProxyCommand, config aliases).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jc_plugin.h"
#include "target.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_tspec t;
	char spec[1024], why[256];

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (jc_target_parse(spec, &t, why, sizeof(why)) == 0) {
		/* Every field stays terminated and within bounds. */
		if (memchr(t.host, '\0', sizeof(t.host)) == NULL ||
		    memchr(t.value, '\0', sizeof(t.value)) == NULL ||
		    memchr(t.user, '\0', sizeof(t.user)) == NULL ||
		    t.port < 0 || t.port > 65535)
			__builtin_trap();
		/* A host target never carries shell or option syntax. */
		if (t.kind == JC_T_HOST && (t.host[0] == '-' ||
		    strpbrk(t.host, " ;|&$`'\"\\") != NULL))
			__builtin_trap();
	} else if (memchr(why, '\0', sizeof(why)) == NULL)
		__builtin_trap();
	return 0;
}
