// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_jsonl: JSON Lines, every non-empty line one JSON value, validated
 * by the JSON machine of format_json.c line by line.
 *
 * A line ends at '\n' (found with memchr(), never fed to the machine); a
 * '\r' before it is JSON whitespace, and an empty or whitespace-only line
 * is allowed.  A line that ends inside its value is "unexpected end of
 * line" (or "unterminated string", "invalid utf-8", ...) at the offset of
 * its '\n'; a final line without one is validated at the end of the
 * content.  Empty content is valid: no records.
 *
 * Record mode reports each line as a record [start, end) with end just
 * after its '\n' (whitespace-only and empty lines too, as valid); an
 * invalid record's remaining bytes are skipped up to its newline.
 */
#include "config.h"

#include "core/format_json_internal.h"

#include <errno.h>
#include <string.h>

struct jsonl_state {
	struct json_machine m;
	format_record_fn *on_record;	/* NULL: whole-content mode */
	void *ctx;
	uint64_t start;		/* offset of the current record */
};

static int jsonl_init(void *state, format_record_fn *on_record, void *ctx)
{
	struct jsonl_state *s = state;

	format_json_machine_init(&s->m);
	s->on_record = on_record;
	s->ctx = ctx;
	s->start = 0;
	return 0;
}

/* The line of the current record ends at m->offset, its '\n'. */
static int jsonl_end_line(struct jsonl_state *s)
{
	struct json_machine *m = &s->m;
	int ret = 0;

	if (!format_json_machine_is_blank(m))
		ret = format_json_machine_end(m, "unexpected end of line");
	if (ret && !s->on_record)
		return ret;
	if (s->on_record)
		s->on_record(s->ctx, s->start, m->offset + 1,
			     m->failed ? &m->err : NULL);
	m->offset++;
	m->line++;
	format_json_machine_restart(m);
	s->start = m->offset;
	return 0;
}

static int jsonl_feed(void *state, const unsigned char *buf, size_t len)
{
	struct jsonl_state *s = state;
	struct json_machine *m = &s->m;
	int ret;

	if (m->failed == -ENOMEM || (m->failed && !s->on_record))
		return m->failed;
	while (len) {
		const unsigned char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) : len;

		if (m->failed) {
			/* Record mode: skips the rest of an invalid record. */
			m->offset += n;
		} else {
			ret = format_json_machine_run(m, buf, n);
			if (ret == -ENOMEM || (ret && !s->on_record))
				return ret;
		}
		if (!nl)
			break;
		ret = jsonl_end_line(s);
		if (ret)
			return ret;
		buf += n + 1;
		len -= n + 1;
	}
	return 0;
}

static int jsonl_finish(void *state, struct format_error *err)
{
	struct jsonl_state *s = state;
	struct json_machine *m = &s->m;
	int ret = 0;

	if (m->failed == -ENOMEM)
		return -ENOMEM;
	if (m->offset > s->start && !format_json_machine_is_blank(m))
		ret = format_json_machine_end(m, "unexpected end of content");
	if (!s->on_record) {
		if (ret && err)
			*err = m->err;
		return ret;
	}
	if (m->offset > s->start)
		s->on_record(s->ctx, s->start, m->offset,
			     m->failed ? &m->err : NULL);
	s->start = m->offset;
	return 0;
}

static void jsonl_release(void *state)
{
	struct jsonl_state *s = state;

	if (s)
		format_json_machine_release(&s->m);
}

const struct format_ops format_jsonl_ops = {
	.name = "jsonl",
	.kind = FORMAT_JSONL,
	.has_records = true,
	.state_size = sizeof(struct jsonl_state),
	.init = jsonl_init,
	.feed = jsonl_feed,
	.finish = jsonl_finish,
	.release = jsonl_release,
};
