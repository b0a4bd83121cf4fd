/*
 * jupyter_json.h - the parser of Jupyter's runtime JSON files and of
 * `jupyter server list --json` output (jupyter_json.c).  Pure, fuzzed.
 */
#ifndef JC_JUPYTER_JSON_H
#define JC_JUPYTER_JSON_H

#include <stddef.h>

#include "jupyter_url.h"

/*
 * Parse runtime JSON files or `list --json` / `--jsonlist` output: any
 * sequence of JSON objects or arrays of objects.  Appends up to
 * max - *n servers to out[*n...], marking each with `source`; skips
 * values that are not server objects.  Returns 0, or JC_ERR_PROTO when
 * the text holds no server at all (malformed, truncated, empty).
 */
int	jc_jupyter_json_parse(const char *buf, size_t len, const char *source,
	    struct jc_jupyter *out, size_t max, size_t *n);

#endif /* JC_JUPYTER_JSON_H */
