/*
 * fuzz_config.c - libFuzzer target for the config file parser and the
 * alias/default application (user bytes: ~/.config/jconnect/config.json).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "jc.h"
#include "log.h"
#include "plugin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;

	if (!once) {
		jc_log_set_level(JC_LOG_ERROR);
		/* The plugins' options are known, as from the command line. */
		jc_config_set_plugins(jc_plugin_config_ops());
		once = 1;
	}
	memset(&jc_opts, 0, sizeof(jc_opts));
	if (jc_config_parse((const char *)data, size, "fuzz") == 0) {
		(void)jc_config_is_alias("gpu");
		(void)jc_config_alias_target("gpu");
		(void)jc_config_apply(&jc_opts, "gpu");
		(void)jc_config_apply(&jc_opts, NULL);
		(void)jc_config_option("ssm.chunk_size");
	}
	jc_config_free();
	return 0;
}
