/*
 * num.c - strict decimal numbers.  strtol alone accepts " 80", "+80" and
 * "-0"; a port or a number of seconds written that way is a typo.
 */
#include <limits.h>
#include <stddef.h>

#include "num.h"

int
jc_num_parse(const char *s, long lo, long hi, long *out)
{
	long v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		/* Stop before overflow: anything that long is out of range. */
		if (v > (LONG_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
jc_num_int(const char *s, int lo, int hi, int *out)
{
	long v;

	if (jc_num_parse(s, lo, hi, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}
