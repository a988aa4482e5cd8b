// SPDX-License-Identifier: GPL-2.0-or-later
/* The check of a big shadow on its own thread: see bgcheck.h. */
#include "config.h"

#include "bgcheck.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define CHUNK (256 * 1024)

struct bgcheck {
	struct io *io;
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under @lock. */
	uint64_t size;		/* the shadow's length: feed up to it */
	uint64_t reading;	/* the end of what the thread has read */
	bool restart;		/* read bytes changed: start over */
	bool stop;
	/* The thread's own while it runs. */
	struct format_check *check;
	uint64_t fed;
	char *buf;
};

static void *run(void *arg)
{
	struct bgcheck *b = arg;

	pthread_mutex_lock(&b->lock);
	while (!b->stop && b->check) {
		uint64_t from, to;
		ssize_t n;

		if (b->restart) {
			format_check_reset(b->check);
			b->fed = b->reading = 0;
			b->restart = false;
		}
		if (b->fed >= b->size) {
			pthread_cond_wait(&b->wake, &b->lock);
			continue;
		}
		from = b->fed;
		to = b->size - from < CHUNK ? b->size : from + CHUNK;
		b->reading = to;
		pthread_mutex_unlock(&b->lock);
		n = io_pread(b->io, b->fd, b->buf, (size_t)(to - from),
			     (off_t)from);
		/*
		 * Fed without the lock, so writes never wait for the validator:
		 * bytes changed meanwhile set @restart, and the check starts over
		 * before anything it fed counts.
		 */
		if (n > 0 && format_check_feed(b->check, b->buf, (size_t)n) ==
				     -ENOMEM) {
			format_check_free(b->check);
			b->check = NULL;
		}
		pthread_mutex_lock(&b->lock);
		if (b->restart || !b->check)
			continue;
		if (n <= 0) {
			/* Shorter than said, or unreadable: the commit reads it. */
			b->reading = b->fed;
			pthread_cond_wait(&b->wake, &b->lock);
			continue;
		}
		b->fed += (uint64_t)n;
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

int bgcheck_start(struct io *io, int fd, struct format_check *c, uint64_t fed,
		  uint64_t size, struct bgcheck **out)
{
	struct bgcheck *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	b->buf = malloc(CHUNK);
	if (!b->buf) {
		free(b);
		return -ENOMEM;
	}
	b->io = io;
	b->fd = fd;
	b->check = c;
	b->fed = b->reading = fed;
	b->size = size;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	ret = pthread_create(&b->thread, NULL, run, b);
	if (ret) {
		pthread_cond_destroy(&b->wake);
		pthread_mutex_destroy(&b->lock);
		free(b->buf);
		free(b);
		return -ret;
	}
	*out = b;
	return 0;
}

void bgcheck_changed(struct bgcheck *b, uint64_t off, uint64_t size)
{
	pthread_mutex_lock(&b->lock);
	if (off < b->reading || size < b->fed)
		b->restart = true;
	b->size = size;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

void bgcheck_wrote(struct bgcheck *b, uint64_t off, uint64_t end)
{
	pthread_mutex_lock(&b->lock);
	if (off < b->reading)
		b->restart = true;
	if (end > b->size)
		b->size = end;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

void bgcheck_stop(struct bgcheck *b, struct format_check **c, uint64_t *fed)
{
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	if (b->check && b->restart) {
		format_check_reset(b->check);
		b->fed = 0;
	}
	*c = b->check;
	*fed = b->check ? b->fed : 0;
	pthread_cond_destroy(&b->wake);
	pthread_mutex_destroy(&b->lock);
	free(b->buf);
	free(b);
}
