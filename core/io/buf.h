/*
 * buf.h - a bounded byte FIFO.  The maximum is fixed at creation; a full
 * buffer makes the reader stop instead of growing (backpressure).
 */
#ifndef JC_BUF_H
#define JC_BUF_H

#include <stddef.h>
#include <sys/types.h>

struct jc_buf {
	unsigned char	*d;		/* storage, allocated on first use */
	size_t		 max;		/* capacity */
	size_t		 off;		/* start of unread data */
	size_t		 len;		/* bytes of unread data */
};

/* Initialise an empty buffer holding at most max bytes (no allocation). */
void	jc_buf_init(struct jc_buf *, size_t max);

/* Release storage; the buffer is empty afterwards. */
void	jc_buf_free(struct jc_buf *);

/* Free space left. */
size_t	jc_buf_room(const struct jc_buf *);

/* Append up to n bytes; returns how many were taken (0 when full/OOM). */
size_t	jc_buf_put(struct jc_buf *, const void *, size_t n);

/* Drop n bytes from the front (n <= len). */
void	jc_buf_consume(struct jc_buf *, size_t n);

/*
 * read(2) from fd into the free space.  Returns bytes read, 0 at EOF,
 * -1 with errno (EAGAIN when nothing is ready).  Storage is allocated on
 * the first call (-1, ENOMEM when that fails).
 */
ssize_t	jc_buf_read_fd(struct jc_buf *, int fd);

/* write(2) from the front to fd; returns bytes written or -1 (errno). */
ssize_t	jc_buf_write_fd(struct jc_buf *, int fd);

/* Free the storage when empty, so idle connections cost no memory. */
void	jc_buf_shrink(struct jc_buf *);

/* Pointer to the unread bytes (valid until the next call). */
const unsigned char *jc_buf_ptr(const struct jc_buf *);

#endif /* JC_BUF_H */
