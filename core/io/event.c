/*
 * event.c - --json event lines on stdout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "event.h"

static int enabled;

void
jc_event_enable(int json)
{
	enabled = json;
}

int
jc_event_enabled(void)
{
	return enabled;
}

void
jc_event(const char *name, ...)
{
	const char *k, *v;
	cJSON *o;
	va_list ap;
	char *s;

	if (!enabled)
		return;
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "event", name);
	cJSON_AddNumberToObject(o, "time", (double)time(NULL));
	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL)
			continue;
		if (*k == '#')
			cJSON_AddNumberToObject(o, k + 1, atof(v));
		else
			cJSON_AddStringToObject(o, k, v);
	}
	va_end(ap);
	if ((s = cJSON_PrintUnformatted(o)) != NULL) {
		printf("%s\n", s);
		fflush(stdout);
		free(s);
	}
	cJSON_Delete(o);
}
