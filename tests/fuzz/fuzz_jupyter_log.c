/*
 * fuzz_jupyter_log.c - libFuzzer target for the Jupyter log parser and the
 * announced-URL parser (remote bytes: a log file on the instance).
 * Seeds: corpus/jupyter_log/ (real notebook 6 / jupyter-server 1.x logs).
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
	struct jc_jupyter j;
	char url[1024];

	if (jc_jupyter_log_parse((const char *)data, size, &j) == 0) {
		/* Whatever was found must make a bounded, usable URL. */
		if (j.base_url[0] != '/' || j.port < 0 || j.port > 65535)
			__builtin_trap();
		(void)jc_jupyter_url(&j, 8888, url, sizeof(url));
	}
	if (jc_jupyter_url_parse((const char *)data, size, &j) == 0 &&
	    strlen(j.token) >= sizeof(j.token))
		__builtin_trap();
	return 0;
}
