/*
 * event.h - --json events: one JSON object per line on stdout.
 */
#ifndef JC_EVENT_H
#define JC_EVENT_H

/* Enable (json = 1) or disable event output. */
void	jc_event_enable(int json);
int	jc_event_enabled(void);

/*
 * Emit {"event":NAME,"k1":"v1",...} when enabled.  Arguments are
 * key/value string pairs ending with a NULL key; a NULL value is skipped.
 * A key starting with '#' is emitted as a number (the '#' dropped).
 */
void	jc_event(const char *name, ...);

#endif /* JC_EVENT_H */
