// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing a content into a file through a mount, as restore and recover
 * do: copied, hashed, synced and closed, so that hydrafs's commit (and a
 * refusal) is what the last step returns.
 */
#include "config.h"

#include "hydractl.h"

#include "core/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BUF_SIZE (1024 * 1024)

int copy_commit(int src, int dst, struct format_sum *sum, uint64_t *size,
		const char **stage)
{
	struct format_check *c = NULL;
	struct format_error err;
	char *buf = malloc(BUF_SIZE);
	ssize_t n = 0, w;
	int ret = -ENOMEM;

	*stage = "copy";
	*size = 0;
	if (!buf || format_check_new(FORMAT_OPAQUE, &c) < 0)
		goto out_close;
	*stage = "read";
	while ((n = pread(src, buf, BUF_SIZE, (off_t)*size)) > 0) {
		*stage = "write";
		for (ssize_t off = 0; off < n; off += w) {
			w = write(dst, buf + off, (size_t)(n - off));
			if (w < 0)
				goto out_errno;
		}
		format_check_feed(c, buf, (size_t)n);
		*size += (uint64_t)n;
		*stage = "read";
	}
	if (n < 0)
		goto out_errno;
	format_check_finish(c, sum, &err);
	*stage = "fsync";
	if (fsync(dst) < 0)
		goto out_errno;
	*stage = "close";
	ret = close(dst) < 0 ? -errno : 0;
	dst = -1;
	goto out_close;
out_errno:
	ret = -errno;
out_close:
	if (dst >= 0)
		close(dst);
	format_check_free(c);
	free(buf);
	return ret;
}

bool copy_refused(int ret, const char *stage)
{
	return ret == -EIO && (!strcmp(stage, "fsync") || !strcmp(stage, "close"));
}

char *copy_destination(const char *to, const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	struct stat st;

	if (stat(to, &st) == 0 && S_ISDIR(st.st_mode))
		return target_join(to, base);
	return strdup(to);
}

void copy_explain_refusal(const char *dest, const char *what)
{
	char why[1024];
	ssize_t n = getxattr(dest, REJECTED_XATTR, why, sizeof(why) - 1);

	if (n > 0) {
		why[n] = '\0';
		fprintf(stderr, "hydractl: hydrafs refused the %s: %s\n", what, why);
	} else {
		fprintf(stderr, "hydractl: hydrafs refused the %s (see the journal)\n",
			what);
	}
}
