/*
 * ssm_entry.c - the one exported symbol of jc-ssm.so.  Kept apart from
 * ssm.c so unit tests can link several plugin archives together without
 * two definitions of jc_plugin_entry().
 */
#include "ssm.h"

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &ssm_plugin;
}
