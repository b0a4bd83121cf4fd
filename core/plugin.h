/*
 * plugin.h - the plugin registry: finds jc-NAME.so, checks and loads it,
 * and hands it the host table.
 */
#ifndef JC_PLUGIN_LOADER_H
#define JC_PLUGIN_LOADER_H

#include <stdio.h>

#include "jc_plugin.h"

/* Directory of the running binary (for the build-tree search). */
const char *jc_plugin_exe_dir(void);

/*
 * Find, load, check and init plugin `name` along the search path
 * (--plugin-dir, $JCONNECT_PLUGIN_DIR, the build tree next to the binary,
 * the install dir).  A loaded plugin is returned again without reloading.
 * On failure logs why and returns JC_ERR_PLUGIN.
 */
int	jc_plugin_get(const char *name, const struct jc_plugin **pp,
	    void **statep);

/*
 * Load one file with every check (a regular file, not a link; it and its
 * directory owned by root or the user and not group/world-writable;
 * jc_plugin_entry present, ABI major, minimum size, name matches file,
 * not a duplicate, init() == 0).  The file is checked and loaded through
 * one descriptor (/proc/self/fd/N), so it cannot be swapped in between.
 * Returns 0 or JC_ERR_PLUGIN with the reason in why.
 */
int	jc_plugin_load_file(const char *path, const struct jc_plugin **pp,
	    void **statep, char *why, size_t whylen);

/* Set --plugin-dir (borrowed). */
void	jc_plugin_set_dir(const char *dir);

/* Print the plugins found along the search path (`jconnect plugins`). */
int	jc_plugin_list(FILE *, int json);

/* fini and dlclose everything. */
void	jc_plugin_unload_all(void);

/* The host table handed to plugins. */
const struct jc_host *jc_plugin_host(void);

#endif /* JC_PLUGIN_LOADER_H */
