// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_jsonl: JSON Lines, every non-empty line one JSON value, validated
 * by the JSON machine of format_json.c line by line.
 *
 * A line ends at '\n', which the machine takes as the line end wherever it
 * comes (no separate pass to find it); a '\r' before it is JSON whitespace,
 * and an empty or whitespace-only line is allowed.  A line that ends inside its value is "unexpected end of
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

/* Record mode: the current record ends at m->offset, its '\n'. */
static void jsonl_end_line(struct jsonl_state *s)
{
	struct json_machine *m = &s->m;

	if (!format_json_machine_is_blank(m))
		format_json_machine_end(m, "unexpected end of line");
	s->on_record(s->ctx, s->start, m->offset + 1,
		     m->failed ? &m->err : NULL);
	m->offset++;
	m->line++;
	format_json_machine_restart(m);
	s->start = m->offset;
}

/* Record mode: the machine stops at the end of each line. */
static int jsonl_feed_records(struct jsonl_state *s, const unsigned char *buf,
			      size_t len)
{
	struct json_machine *m = &s->m;
	const unsigned char *nl;
	uint64_t at;
	size_t n;

	while (len) {
		at = m->offset;
		if (!m->failed) {
			if (format_json_machine_run_lines(m, buf, len,
							  JSON_LINES_STOP) ==
			    -ENOMEM)
				return -ENOMEM;
			if (!m->failed) {
				n = (size_t)(m->offset - at);
				if (n == len)
					break;
				goto end_line;	/* buf[n] is its '\n' */
			}
			m->offset = at;
		}
		/* Skips the rest of an invalid record. */
		nl = memchr(buf, '\n', len);
		n = nl ? (size_t)(nl - buf) : len;
		m->offset += n;
		if (!nl)
			break;
end_line:
		jsonl_end_line(s);
		buf += n + 1;
		len -= n + 1;
	}
	return 0;
}

static int jsonl_feed(void *state, const unsigned char *buf, size_t len)
{
	struct jsonl_state *s = state;
	struct json_machine *m = &s->m;

	if (m->failed == -ENOMEM || (m->failed && !s->on_record))
		return m->failed;
	if (s->on_record)
		return jsonl_feed_records(s, buf, len);
	return format_json_machine_run_lines(m, buf, len, JSON_LINES_ON);
}

static int jsonl_finish(void *state, struct format_error *err)
{
	struct jsonl_state *s = state;
	struct json_machine *m = &s->m;
	int ret = 0;

	if (m->failed == -ENOMEM)
		return -ENOMEM;
	/*
	 * Not blank: the line holds more than whitespace, or failed.  Whole
	 * content mode does not track s->start, as the machine goes over
	 * its lines by itself.
	 */
	if (!format_json_machine_is_blank(m))
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
