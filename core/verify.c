// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1024 * 1024)

const char *verify_state_name(enum verify_state state)
{
	static const char *const names[] = {
		[VERIFY_OK] = "ok",
		[VERIFY_UNRECORDED] = "unrecorded",
		[VERIFY_CHANGED] = "changed",
		[VERIFY_DAMAGED] = "damaged",
	};

	return (unsigned int)state < sizeof(names) / sizeof(names[0])
		       ? names[state] : "unknown";
}

/* Hashes and validates all of @fd as @kind; -EINVAL (with *@err) when invalid. */
static int check_all(struct io *io, int fd, enum format_kind kind,
		     verify_progress_fn *progress, void *ctx,
		     struct verify_result *out)
{
	struct format_check *c;
	uint64_t off = 0;
	char *buf;
	int ret;

	ret = format_check_new(kind, &c);
	if (ret < 0)
		return ret;
	buf = malloc(CHUNK);
	if (!buf) {
		format_check_free(c);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = io_pread(io, fd, buf, CHUNK, (off_t)off);

		if (n < 0) {
			ret = (int)n;
			goto out_free;
		}
		if (n == 0)
			break;
		if (format_check_feed(c, buf, (size_t)n) == -ENOMEM) {
			ret = -ENOMEM;
			goto out_free;
		}
		off += (uint64_t)n;
		if (progress)
			progress(ctx, off);
	}
	out->size = off;
	ret = format_check_finish(c, &out->sum, &out->err);
	/* Empty content is valid whatever the format (the commit's rule). */
	if (ret == -EINVAL && off == 0)
		ret = 0;
out_free:
	free(buf);
	format_check_free(c);
	return ret;
}

int verify_fd(struct io *io, int fd, const struct stat *st,
	      enum format_kind kind, verify_progress_fn *progress, void *ctx,
	      struct verify_result *out)
{
	char text[RECORD_TEXT_MAX];
	struct verify_result r = { 0 };
	ssize_t n;
	bool same_id, same_sum, valid;
	int ret;

	n = io_getxattr_fd(io, fd, RECORD_XATTR, text, sizeof(text));
	r.has_record = n > 0 && record_parse(text, (size_t)n, &r.record) == 0;
	r.format = r.has_record ? r.record.format : kind;
	ret = check_all(io, fd, r.format, progress, ctx, &r);
	if (ret < 0 && ret != -EINVAL)
		return ret;
	valid = ret == 0;
	if (!r.has_record) {
		r.state = valid ? VERIFY_UNRECORDED : VERIFY_DAMAGED;
		r.why = valid ? NULL : "invalid in its format";
		*out = r;
		return 0;
	}
	same_id = record_matches(&r.record, st) && r.size == r.record.size;
	same_sum = r.record.has_sum && r.sum.high == r.record.sum.high &&
		   r.sum.low == r.record.sum.low;
	/* Content committed invalid by a rule is only checked by its sum. */
	if (r.record.state == RECORD_INVALID)
		valid = true;
	if (same_id && r.record.has_sum && !same_sum) {
		r.state = VERIFY_DAMAGED;
		r.why = "checksum differs from the record (damaged in place)";
	} else if (!valid) {
		r.state = VERIFY_DAMAGED;
		r.why = same_id ? "invalid in its format"
				: "changed behind the mount, invalid in its format";
	} else if (!same_id && !same_sum) {
		r.state = VERIFY_CHANGED;
		r.why = "changed behind the mount";
	} else {
		r.state = VERIFY_OK;
	}
	*out = r;
	return 0;
}
