/*
 * fuzz_jupyter_json.c - libFuzzer target for the runtime-file and
 * `jupyter ... list --json|--jsonlist` parser (remote bytes).
 * Seeds: corpus/jupyter_json/ (real nbserver/jpserver files and lists).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jc_plugin.h"
#include "jupyter.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_jupyter j[JC_JUPYTER_MAX];
	char url[1024], desc[512];
	size_t n = 0, i;

	(void)jc_jupyter_json_parse((const char *)data, size, "fuzz", j,
	    JC_JUPYTER_MAX, &n);
	if (n > JC_JUPYTER_MAX)
		__builtin_trap();
	for (i = 0; i < n; i++) {
		if (j[i].base_url[0] != '/' ||
		    j[i].base_url[strlen(j[i].base_url) - 1] != '/' ||
		    (j[i].sock[0] != '\0' && j[i].port != 0))
			__builtin_trap();
		(void)jc_jupyter_url(&j[i], 8888, url, sizeof(url));
		jc_jupyter_describe(&j[i], desc, sizeof(desc));
	}
	return 0;
}
