/*
 * relay.h - one relayed connection: two endpoints (each a read fd and a
 * write fd, often the same socket) joined by two half-duplex directions.
 * Each direction has a bounded buffer and reads only while it has room,
 * so a slow side slows the other instead of growing memory.  EOF on one
 * side is passed on as a half-close once its buffer has drained.
 */
#ifndef JC_RELAY_H
#define JC_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct jc_relay;

/* Called once when both directions are finished or one failed. */
typedef void jc_relay_done_fn(void *arg, struct jc_relay *, int error);

/*
 * Start relaying a_in -> b_out and b_in -> a_out with bufmax bytes per
 * direction.  Takes ownership of the four fds (equal fds are closed once)
 * and makes them non-blocking.  done (may be NULL) is called from the
 * loop when the relay has finished; the relay is then still allocated
 * and the callback or a later caller frees it with jc_relay_free().
 * Returns NULL on out-of-memory (fds are then closed).
 */
struct jc_relay *jc_relay_new(int a_in, int a_out, int b_in, int b_out,
	    size_t bufmax, jc_relay_done_fn *done, void *arg);

/* Stop, close every fd still open and free.  NULL is a no-op. */
void	jc_relay_free(struct jc_relay *);

/* Bytes moved a->b and b->a so far. */
void	jc_relay_counts(const struct jc_relay *, uint64_t *ab, uint64_t *ba);

/* 1 once the relay finished (done was or is about to be called). */
int	jc_relay_finished(const struct jc_relay *);

#endif /* JC_RELAY_H */
