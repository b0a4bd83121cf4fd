/*
 * coredump.h - jconnect leaves no core dumps: its memory holds notebook
 * tokens and AWS secrets.
 */
#ifndef JC_COREDUMP_H
#define JC_COREDUMP_H

/*
 * At start: a core size limit of 0 and not dumpable (no core through a
 * pipe handler either, and other processes of the user cannot attach to
 * it or read its memory).
 */
void	jc_coredump_off(void);

/*
 * In a child about to run another program (the browser): give back the
 * core size limit jconnect was started with.  Async-signal-safe.
 */
void	jc_coredump_restore(void);

#endif /* JC_COREDUMP_H */
