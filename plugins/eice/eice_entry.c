/*
 * eice_entry.c - the one exported symbol of jc-eice.so, apart from the
 * plugin struct so that tests can link the struct without it.
 */
#include "jc_plugin.h"

extern const struct jc_plugin jc_plugin_eice;

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &jc_plugin_eice;
}
