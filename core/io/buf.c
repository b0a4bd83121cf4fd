/*
 * buf.c - bounded byte FIFO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

void
jc_buf_init(struct jc_buf *b, size_t max)
{
	b->d = NULL;
	b->max = max;
	b->off = b->len = 0;
}

void
jc_buf_free(struct jc_buf *b)
{
	free(b->d);
	b->d = NULL;
	b->off = b->len = 0;
}

size_t
jc_buf_room(const struct jc_buf *b)
{
	return b->max - b->len;
}

/* Make the free space contiguous at the end; allocate on first use. */
static int
buf_prepare(struct jc_buf *b)
{
	if (b->d == NULL && (b->d = malloc(b->max)) == NULL)
		return -1;
	if (b->off > 0 && b->off + b->len == b->max) {
		memmove(b->d, b->d + b->off, b->len);
		b->off = 0;
	} else if (b->len == 0)
		b->off = 0;
	return 0;
}

size_t
jc_buf_put(struct jc_buf *b, const void *p, size_t n)
{
	size_t tail;

	if (n == 0 || jc_buf_room(b) == 0 || buf_prepare(b) != 0)
		return 0;
	if (b->max - (b->off + b->len) < n && b->off > 0) {
		memmove(b->d, b->d + b->off, b->len);
		b->off = 0;
	}
	tail = b->max - (b->off + b->len);
	if (n > tail)
		n = tail;
	memcpy(b->d + b->off + b->len, p, n);
	b->len += n;
	return n;
}

void
jc_buf_consume(struct jc_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

ssize_t
jc_buf_read_fd(struct jc_buf *b, int fd)
{
	ssize_t n;
	size_t tail;

	if (jc_buf_room(b) == 0) {
		errno = ENOBUFS;
		return -1;
	}
	if (buf_prepare(b) != 0) {
		errno = ENOMEM;
		return -1;
	}
	tail = b->max - (b->off + b->len);
	if (tail == 0) {
		memmove(b->d, b->d + b->off, b->len);
		b->off = 0;
		tail = b->max - b->len;
	}
	n = read(fd, b->d + b->off + b->len, tail);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

ssize_t
jc_buf_write_fd(struct jc_buf *b, int fd)
{
	ssize_t n;

	if (b->len == 0)
		return 0;
	n = write(fd, b->d + b->off, b->len);
	if (n > 0)
		jc_buf_consume(b, (size_t)n);
	return n;
}

const unsigned char *
jc_buf_ptr(const struct jc_buf *b)
{
	return b->d == NULL ? (const unsigned char *)"" : b->d + b->off;
}

void
jc_buf_shrink(struct jc_buf *b)
{
	if (b->len == 0)
		jc_buf_free(b);
}
