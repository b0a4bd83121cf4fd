/*
 * ssm_probe.h - what Session Manager knows of an instance (ssm_probe.c).
 */
#ifndef SSM_PROBE_H
#define SSM_PROBE_H

#include "jc_plugin.h"

/* What SSM knows of instance id (ssm_probe.c); the parse alone for tests. */
int	ssm_p_probe(void *state, const char *id, struct jc_probe *pr);
int	ssm_probe_parse(const char *json, const char *id, struct jc_probe *pr);

/* Start asking ahead (jc_plugin.h, probe_ahead); dropped by fini. */
void	ssm_p_probe_ahead(void *state, const char *tag_key, const char *value);
void	ssm_probe_fini(void);

#endif /* SSM_PROBE_H */
