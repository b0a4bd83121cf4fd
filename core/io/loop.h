/*
 * loop.h - the single-threaded poll() event loop.
 *
 * Each pass: prepare (every source adds the fds it wants and its earliest
 * deadline) -> poll -> dispatch (every source) -> collect the sources
 * deleted during the pass.  jc_loop_run() may be nested, so a call that
 * must wait (exec, connect, an HTTP check) runs the loop and every other
 * source keeps moving.
 */
#ifndef JC_LOOP_H
#define JC_LOOP_H

#include <poll.h>
#include <stdint.h>

#include "jc_plugin.h"

/* Monotonic clock in milliseconds. */
int64_t	jc_now_ms(void);

/*
 * Register a source; ops and arg are borrowed until jc_source_del().
 * Returns NULL on out-of-memory.
 */
struct jc_source *jc_source_add(const struct jc_source_ops *ops, void *arg);

/*
 * A light source: its prepare and dispatch only move its own sockets
 * and timers and never call out (connections made ahead), so a call that
 * waits outside the loop may run it too (jc_loop_poll_light).  Both ops
 * are required.
 */
struct jc_source *jc_source_add_light(const struct jc_source_ops *ops,
	    void *arg);

/*
 * poll() for a caller that waits outside the loop (an AWS call beside
 * others): the light sources join the same poll and are dispatched after
 * it.  Returns as poll() would for fds[0..n).
 */
int	jc_loop_poll_light(struct pollfd *fds, int n, int timeout_ms);

/* Unregister; safe inside prepare/dispatch (freed after the pass). */
void	jc_source_del(struct jc_source *);

/* Add fd to the pollset; returns the slot for jc_ps_revents, -1 if full. */
int	jc_ps_add(struct jc_pollset *, int fd, short events);
short	jc_ps_revents(const struct jc_pollset *, int slot);

/*
 * Run until *done != 0 (returns 0), timeout_ms elapses (JC_ERR_TIMEOUT;
 * -1 = none) or a stop signal arrived (JC_ERR_INTR).  done may be NULL.
 */
int	jc_loop_run(volatile int *done, int timeout_ms);

/* Install SIGINT/SIGTERM/SIGHUP handlers that make jc_loop_run return. */
int	jc_loop_signals(void);

/* 1 once a stop signal arrived (sticky); jc_loop_stop() sets it too. */
int	jc_loop_stopping(void);
void	jc_loop_stop(void);
/* The signal that stopped us (SIGINT, SIGTERM, ...) or 0. */
int	jc_loop_signal(void);

/*
 * Cleanup that needs the loop after a stop signal (removing a remote
 * key over the session): jc_loop_hold_stop() forgets the signal and
 * returns it, so the loop runs again; jc_loop_restore_stop() puts it
 * back.  A new signal meanwhile stops that cleanup as usual.
 */
int	jc_loop_hold_stop(void);
void	jc_loop_restore_stop(int sig);

/* 1 once a stop signal came, even while held: only cleanup runs now. */
int	jc_loop_ending(void);

#endif /* JC_LOOP_H */
