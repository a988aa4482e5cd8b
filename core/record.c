// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[RECORD_OK] = "ok",
	[RECORD_INVALID] = "invalid",
	[RECORD_DAMAGED] = "damaged",
};

size_t record_format(const struct record *r, char *buf)
{
	char sum[33] = "-";
	int n;

	if (r->has_sum)
		format_sum_hex(&r->sum, sum);
	n = snprintf(buf, RECORD_TEXT_MAX,
		     "v1 format=%s state=%s size=%" PRIu64 " mtime=%" PRId64
		     ".%09" PRIu32 " ino=%" PRIu64 " sum=%s",
		     format_kind_name(r->format), state_names[r->state],
		     r->size, r->mtime_sec, r->mtime_nsec, r->ino, sum);
	return n < 0 ? 0 : (size_t)n < RECORD_TEXT_MAX ? (size_t)n : RECORD_TEXT_MAX - 1;
}

/* Parses an unsigned decimal of @len bytes at @s, without sign or space. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_mtime(const char *s, size_t len, struct record *r)
{
	const char *dot = memchr(s, '.', len);
	bool neg = len && s[0] == '-';
	uint64_t sec, nsec;

	/* "SEC.NSEC" as in struct timespec: -1.5 is one second before 1970 plus half a second. */
	if (neg) {
		s++;
		len--;
	}
	if (!dot || dot == s || (size_t)(s + len - dot - 1) != 9 ||
	    parse_u64(s, (size_t)(dot - s), &sec) < 0 ||
	    parse_u64(dot + 1, 9, &nsec) < 0 || sec > INT64_MAX)
		return -EINVAL;
	r->mtime_sec = neg ? -(int64_t)sec : (int64_t)sec;
	r->mtime_nsec = (uint32_t)nsec;
	return 0;
}

static int parse_field(const char *key, size_t klen, const char *val,
		       size_t vlen, struct record *r, unsigned int *seen)
{
	char tmp[40];
	int k;

#define IS(name) (klen == sizeof(name) - 1 && !memcmp(key, name, klen))
	if (memchr(val, '\0', vlen))
		return -EINVAL;
	if (IS("format")) {
		if (*seen & 1)
			return -EINVAL;
		if (vlen >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, val, vlen);
		tmp[vlen] = '\0';
		k = format_kind_parse(tmp);
		if (k < 0)
			return -EINVAL;
		r->format = (enum format_kind)k;
		*seen |= 1;
	} else if (IS("state")) {
		if (*seen & 2)
			return -EINVAL;
		if (vlen == 2 && !memcmp(val, "ok", 2))
			r->state = RECORD_OK;
		else if (vlen == 7 && !memcmp(val, "invalid", 7))
			r->state = RECORD_INVALID;
		else if (vlen == 7 && !memcmp(val, "damaged", 7))
			r->state = RECORD_DAMAGED;
		else
			return -EINVAL;
		*seen |= 2;
	} else if (IS("size")) {
		if (*seen & 4)
			return -EINVAL;
		if (parse_u64(val, vlen, &r->size) < 0)
			return -EINVAL;
		*seen |= 4;
	} else if (IS("mtime")) {
		if (*seen & 8)
			return -EINVAL;
		if (parse_mtime(val, vlen, r) < 0)
			return -EINVAL;
		*seen |= 8;
	} else if (IS("ino")) {
		if (*seen & 16)
			return -EINVAL;
		if (parse_u64(val, vlen, &r->ino) < 0)
			return -EINVAL;
		*seen |= 16;
	} else if (IS("sum")) {
		if (*seen & 32)
			return -EINVAL;
		if (vlen == 1 && val[0] == '-') {
			r->has_sum = false;
		} else {
			if (vlen != 32)
				return -EINVAL;
			memcpy(tmp, val, 32);
			tmp[32] = '\0';
			if (format_sum_parse(tmp, &r->sum) < 0)
				return -EINVAL;
			r->has_sum = true;
		}
		*seen |= 32;
	}
#undef IS
	return 0;
}

int record_parse(const char *text, size_t len, struct record *out)
{
	struct record r = { 0 };
	unsigned int seen = 0;
	size_t i = 0;

	if (len < 3 || memcmp(text, "v1 ", 3))
		return -EINVAL;
	i = 3;
	while (i < len) {
		size_t start = i, eq = 0;

		while (i < len && text[i] != ' ') {
			if (text[i] == '=' && !eq)
				eq = i;
			i++;
		}
		if (i > start) {
			if (!eq)
				return -EINVAL;
			if (parse_field(text + start, eq - start, text + eq + 1,
					i - eq - 1, &r, &seen) < 0)
				return -EINVAL;
		}
		i++;
	}
	if (seen != 63)
		return -EINVAL;
	*out = r;
	return 0;
}

bool record_matches(const struct record *r, const struct stat *st)
{
	return r->size == (uint64_t)st->st_size &&
	       r->mtime_sec == (int64_t)st->st_mtim.tv_sec &&
	       r->mtime_nsec == (uint32_t)st->st_mtim.tv_nsec &&
	       r->ino == (uint64_t)st->st_ino;
}

bool record_is_own_xattr(const char *name)
{
	return !strncmp(name, "user.hydrafs.", 13);
}

size_t record_hide_own_xattrs(char *list, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		const char *end = memchr(list + in, '\0', len - in);
		size_t n = end ? (size_t)(end - (list + in)) + 1 : len - in;

		if (!end || !record_is_own_xattr(list + in)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}
