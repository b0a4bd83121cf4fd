/*
 * jc-badabi.c - a plugin built for a future major ABI: the loader must
 * refuse it without calling anything but jc_plugin_entry().
 */
#include <stdlib.h>

#include "jc_plugin.h"

static int
bad_init(const struct jc_host *h, void **statep)
{
	(void)h;
	(void)statep;
	abort();		/* must never be reached */
}

static const struct jc_plugin badabi = {
	.abi = (JC_PLUGIN_ABI_MAJOR + 1) << 16,
	.size = sizeof(struct jc_plugin),
	.name = "badabi",
	.kind = JC_KIND_METHOD,
	.init = bad_init,
};

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &badabi;
}
