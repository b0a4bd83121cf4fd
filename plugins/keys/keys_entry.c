/*
 * keys_entry.c - the one exported symbol of jc-keys.so.  Kept apart from
 * keys.c so unit tests can link several plugin archives together.
 */
#include "keys.h"

JC_EXPORT const struct jc_plugin *
jc_plugin_entry(void)
{
	return &jc_plugin_keys;
}
