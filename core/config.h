/*
 * config.h - the JSON config file (~/.config/jconnect/config.json):
 * defaults, aliases and free-form options.
 *
 *   { "defaults": { "via": "auto", "user": "ubuntu", ... ,
 *                   "options": { "ssm.chunk_size": "16384" } },
 *     "aliases":  { "gpu": { "target": "stack:my-stack", "via": "ssm" } } }
 */
#ifndef JC_CONFIG_H
#define JC_CONFIG_H

#include <stddef.h>

#include "jc.h"

/*
 * Load path, or the default file when path is NULL (a missing default
 * file is fine).  Returns 0, or JC_ERR_USAGE after logging the file,
 * line and problem.
 */
int	jc_config_load(const char *path);

/*
 * Parse config text (label names it in messages) and make it the loaded
 * config.  Returns 0 or JC_ERR_USAGE after logging the line.
 */
int	jc_config_parse(const char *text, size_t len, const char *label);

/* Free the loaded config. */
void	jc_config_free(void);

/* The alias entry's "target" for `word`, or NULL.  Borrowed. */
const char *jc_config_alias_target(const char *word);

/* 1 when `word` is an alias. */
int	jc_config_is_alias(const char *word);

/*
 * Fill the options still unset in o from the alias entry (when alias is
 * not NULL) and then from "defaults".  Returns 0 or JC_ERR_USAGE.
 */
int	jc_config_apply(struct jc_opts *o, const char *alias);

/* -o KEY=VALUE from the command line.  Returns 0 or JC_ERR_USAGE. */
int	jc_config_set_option(const char *kv);

/* Option lookup for plugins (host->option).  Borrowed or NULL. */
const char *jc_config_option(const char *key);

/* Print alias names, one per line (shell completion). */
void	jc_config_list_aliases(void);

#endif /* JC_CONFIG_H */
