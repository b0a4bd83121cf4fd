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

/* 1 when this build makes plugin `name` (the Makefile's PLUGINS). */
int	jc_plugin_built(const char *name);

/*
 * Load every plugin of the build and fill ps/states with the access
 * methods among them, in build order; returns how many.  One that
 * cannot load is left out (said at -v).
 */
int	jc_plugin_methods(const struct jc_plugin **ps, void **states, int max);

/* A plugin's JC_CAP_* bits (0 for plugins older than ABI 1.5). */
uint32_t jc_plugin_caps(const struct jc_plugin *);

/* Its label for messages ("SSM"), else its name. */
const char *jc_plugin_label(const struct jc_plugin *);

/*
 * The declaration of option key "NAME.KEY" by plugin NAME of the build
 * (loading it), or NULL.
 */
const struct jc_plugin_opt *jc_plugin_optdef(const char *key);

/* Call fn(arg, plugin name, decl) for every declared option; count. */
int	jc_plugin_each_optdef(void (*fn)(void *, const char *,
	    const struct jc_plugin_opt *), void *arg);

/* The three above for the config (jc_config_set_plugins).  Static. */
const struct jc_config_plugins *jc_plugin_config_ops(void);

/* fini and dlclose everything. */
void	jc_plugin_unload_all(void);

/* The host table handed to plugins. */
const struct jc_host *jc_plugin_host(void);

#endif /* JC_PLUGIN_LOADER_H */
