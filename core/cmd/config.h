/*
 * config.h - the JSON config file (~/.config/jconnect/config.json):
 * defaults, aliases and free-form options.
 *
 *   { "defaults": { "via": "auto", "user": "ubuntu", ... ,
 *                   "options": { "ssm.chunk_size": "16384" } },
 *     "aliases":  { "gpu": { "target": "stack:my-stack", "via": "eice" } } }
 */
#ifndef JC_CONFIG_H
#define JC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "jc.h"

/*
 * Load path, or the default file when path is NULL (a missing default
 * file is fine), and check every setting of every alias and of
 * "defaults" (known key, type, range).  Returns 0, or JC_ERR_USAGE after
 * logging the file, the line or the key, and what is allowed.
 */
int	jc_config_load(const char *path);

/*
 * Parse config text (label names it in messages) and make it the loaded
 * config.  Returns 0 or JC_ERR_USAGE after logging the line.
 */
int	jc_config_parse(const char *text, size_t len, const char *label);

/*
 * What the plugins add to the options, handed down by the command layer
 * (the plugin loader is above this file): whether the build makes plugin
 * NAME (for "via"), the declaration of option "NAME.KEY" of plugin NAME
 * (loading it), and a walk over every declared option.  Until it is set
 * only the core's options and "via": "auto" are known.  Borrowed.
 */
struct jc_plugin_opt;
struct jc_config_plugins {
	int	(*built)(const char *name);
	const struct jc_plugin_opt *(*optdef)(const char *key);
	int	(*each_optdef)(void (*fn)(void *, const char *,
		    const struct jc_plugin_opt *), void *arg);
};
void	jc_config_set_plugins(const struct jc_config_plugins *);

/* Free the loaded config. */
void	jc_config_free(void);

/* The alias entry's "target" for `word`, or NULL.  Borrowed. */
const char *jc_config_alias_target(const char *word);

/* 1 when `word` is an alias. */
int	jc_config_is_alias(const char *word);

/*
 * Fill the options still unset in o from the alias entry (when alias is
 * not NULL) and then from "defaults"; an identity file taken from the
 * config must be readable.  Returns 0 or JC_ERR_USAGE after logging.
 */
int	jc_config_apply(struct jc_opts *o, const char *alias);

/*
 * Settings the command line gave explicitly even where they equal the
 * default (--via auto, --host-key-check accept-new): the config must not
 * change them.  Reset by jc_config_free.
 */
#define JC_CFG_CLI_VIA	0x1
#define JC_CFG_CLI_HKC	0x2
void	jc_config_cli_set(unsigned bits);

/*
 * -o KEY=VALUE from the command line, checked against the table of known
 * options.  Returns 0 or JC_ERR_USAGE after logging what is allowed.
 */
int	jc_config_set_option(const char *kv);

/*
 * Is value allowed for the option named by key[0..keylen)?  Returns 0,
 * or -1 with the reason (the known keys, or the type and range) in why.
 */
int	jc_config_option_ok(const char *key, size_t keylen, const char *value,
	    char *why, size_t n);

/* A login user name: letters, digits, '.', '_', '-', not a leading '-'. */
int	jc_config_user_ok(const char *user);

/*
 * A local file named on the command line or in the config: not a
 * directory, and readable when must_exist (else a missing file is fine).
 * Returns 0, or -1 with a reason naming the file in why.
 */
int	jc_config_file_ok(const char *file, int must_exist, char *why,
	    size_t n);

/* Option lookup for plugins (host->option).  Borrowed or NULL. */
const char *jc_config_option(const char *key);

/*
 * A number option of the table (-o KEY=N, an alias's or the defaults'),
 * within the table's range; def when unset.
 */
long	jc_config_num(const char *key, long def);

/* Print every -o option key and what it accepts, one per line (help). */
void	jc_config_print_options(FILE *f);

/* The i-th -o option key (0-based), or NULL past the last. */
const char *jc_config_option_name(size_t i);

/* The i-th alias name in file order (0-based), or NULL past the last. */
const char *jc_config_alias_name(size_t i);

/* Print alias names, one per line (shell completion). */
void	jc_config_list_aliases(void);

#endif /* JC_CONFIG_H */
