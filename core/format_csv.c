// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_csv: the CSV (RFC 4180) and TSV validators behind format.h.
 *
 * The rules, for both formats:
 *  - A row (record) ends after "\n" or "\r\n"; a final row without its line
 *    end is a row.  A carriage return not followed by a newline outside
 *    quotes is an error, at the carriage return.  0 bytes are valid.
 *  - Every row has the field count of the first row (the header); a row is
 *    checked when it ends, so a quoting error inside a row of the wrong
 *    count is the error reported.  The error of a wrong count is at the
 *    start of the row.
 *  - An empty line is a row of one empty field (RFC 4180's grammar): valid
 *    when the header has one field, else the error "empty row".  So a file
 *    ending with a blank line is invalid unless it has one column.
 *  - Content is bytes: any byte other than the delimiter, '"' (CSV), '\r'
 *    and '\n' is data; UTF-8 is not validated.
 *  - CSV: a field that starts with '"' is quoted, holds any bytes
 *    (delimiters, newlines, "" for a quote) up to its closing quote, which
 *    must be followed by a delimiter, a line end or the end of the content.
 *    Errors: "quote inside an unquoted field" (at the quote), "text after a
 *    closing quote" (at the byte after it), "unterminated quote" (at the
 *    opening quote, found by finish()).  Spaces are data: ' "a"' is an
 *    unquoted field with a quote inside it.
 *  - TSV (IANA text/tab-separated-values): no quoting at all; '"' is an
 *    ordinary byte, each line is split on tabs, and a field cannot hold a
 *    tab or a newline.
 *  - Lines are physical: every '\n' counts, a quoted one too.
 *
 * Record mode: every row is reported with the first error found in it; the
 * rows after a bad one are checked as usual.  After an error the rest of
 * the row is read leniently (a stray quote or carriage return is data, and
 * after "text after a closing quote" the field goes on unquoted), so the
 * row ends at the next line end outside a quoted field.  A quoted field
 * still open at the end makes the last row run to the end of the content,
 * with the error "unterminated quote".  The header is reported as a row
 * too, and its field count is the reference even when it is bad.
 *
 * libcsv in strict mode parses the same language, but it keeps every
 * field's bytes in a growing buffer, skips blank lines, ends rows at a
 * bare '\r', and knows neither lines nor where a row began.  So the parser
 * here is a small state machine that never buffers (the state is
 * fixed-size and init() allocates nothing), with a fast path that scans 16
 * bytes at a time with SSE2 (or one at a time elsewhere, or with
 * FORMAT_CSV_PORTABLE defined) for the bytes that matter, counting
 * delimiters.  The unit tests and the fuzz target check it against libcsv.
 */
#include "config.h"

#include "core/format.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(FORMAT_CSV_PORTABLE)
#include <emmintrin.h>
#define CSV_SSE2 1
#endif

/* Where the parser is, between two bytes. */
enum csv_where {
	CSV_FIELD_START, /* at a row's start or after a delimiter */
	CSV_UNQUOTED,	 /* inside an unquoted field */
	CSV_QUOTED,	 /* inside a quoted field */
	CSV_QUOTE_SEEN,	 /* after a quote in a quoted field: closing or "" */
	CSV_CR,		 /* after a '\r' outside quotes: '\n' must follow */
};

/* Byte classes of the plain scan. */
enum csv_class {
	CSV_DATA,
	CSV_DELIM,
	CSV_SPECIAL, /* '"' (CSV only), '\r' or '\n' */
};

struct csv_state {
	format_record_fn *on_record;
	void *ctx;
	const unsigned char *class; /* csv_class of each byte */
	unsigned char delim;
	unsigned char quote; /* '\n' for TSV: never seen as a quote */
	enum csv_where where;
	uint64_t pos;	    /* offset of the next byte to feed */
	uint64_t line;	    /* line of the next byte */
	uint64_t row_start; /* offset and line of the current row */
	uint64_t row_line;
	uint64_t quote_off; /* offset and line of the open quote */
	uint64_t quote_line;
	uint64_t fields; /* fields begun in the current row */
	uint64_t header; /* the header's field count, 0 before it ends */
	bool row_bad;	 /* the current row's first error is in err */
	bool failed;	 /* whole-content mode: err is the first error */
	struct format_error err;
};

static const unsigned char csv_class_csv[256] = {
	[','] = CSV_DELIM,
	['"'] = CSV_SPECIAL,
	['\r'] = CSV_SPECIAL,
	['\n'] = CSV_SPECIAL,
};

static const unsigned char csv_class_tsv[256] = {
	['\t'] = CSV_DELIM,
	['\r'] = CSV_SPECIAL,
	['\n'] = CSV_SPECIAL,
};

/* The byte offset of @p, a pointer into @buf, the piece being fed. */
static inline uint64_t csv_off(const struct csv_state *s,
			       const unsigned char *buf, const unsigned char *p)
{
	return s->pos + (uint64_t)(p - buf);
}

/*
 * Records the first error of the current row.  In whole-content mode that
 * is the end: feed() stops.
 */
static void csv_error(struct csv_state *s, uint64_t offset, uint64_t line,
		      const char *reason)
{
	if (s->row_bad)
		return;
	s->row_bad = true;
	s->err.offset = offset;
	s->err.line = line;
	s->err.reason = reason;
	if (!s->on_record)
		s->failed = true;
}

/*
 * Ends the current row: its line end starts at @term (its '\r' or '\n', or
 * the end of the content) and the row ends at @end.  Checks the field
 * count, reports the row in record mode and starts the next one.
 */
static void csv_row_end(struct csv_state *s, uint64_t term, uint64_t end)
{
	if (s->header == 0)
		s->header = s->fields;
	else if (s->fields != s->header)
		csv_error(s, s->row_start, s->row_line,
			  term == s->row_start ? "empty row" :
						 "wrong field count");
	if (s->failed)
		return;
	if (s->on_record) {
		s->on_record(s->ctx, s->row_start, end,
			     s->row_bad ? &s->err : NULL);
		s->row_bad = false;
	}
	s->row_start = end;
	s->row_line = s->line;
	s->fields = 1;
	s->where = CSV_FIELD_START;
}

/* A '\n' outside quotes at offset @nl; the line end starts at @term. */
static inline void csv_newline(struct csv_state *s, uint64_t term, uint64_t nl)
{
	s->line++;
	csv_row_end(s, term, nl + 1);
}

/*
 * The first byte of class CSV_SPECIAL in [@p, @end), or @end; adds the
 * delimiters before it to *@fields.
 */
static const unsigned char *csv_find_special(const struct csv_state *s,
					     const unsigned char *p,
					     const unsigned char *end,
					     uint64_t *fields)
{
	const unsigned char *class = s->class;
	uint64_t n = *fields;

#ifdef CSV_SSE2
	const __m128i vd = _mm_set1_epi8((char)s->delim);
	const __m128i vq = _mm_set1_epi8((char)s->quote);
	const __m128i vr = _mm_set1_epi8('\r');
	const __m128i vn = _mm_set1_epi8('\n');

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned int d =
			(unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd));
		__m128i x = _mm_or_si128(_mm_cmpeq_epi8(v, vq),
					 _mm_cmpeq_epi8(v, vr));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
			_mm_or_si128(x, _mm_cmpeq_epi8(v, vn)));

		if (m) {
			unsigned int k = (unsigned int)__builtin_ctz(m);

			*fields = n + (uint64_t)__builtin_popcount(
					      d & ((1u << k) - 1));
			return p + k;
		}
		n += (uint64_t)__builtin_popcount(d);
		p += 16;
	}
#endif
	for (; p < end; p++) {
		unsigned char c = class[*p];

		if (c == CSV_SPECIAL)
			break;
		n += c;
	}
	*fields = n;
	return p;
}

/*
 * The first quote in [@p, @end), or @end; adds the newlines before it to
 * *@lines.
 */
static const unsigned char *csv_find_quote(const unsigned char *p,
					   const unsigned char *end,
					   uint64_t *lines)
{
	uint64_t n = *lines;

#ifdef CSV_SSE2
	const __m128i vq = _mm_set1_epi8('"');
	const __m128i vn = _mm_set1_epi8('\n');

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned int nl =
			(unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn));
		unsigned int m =
			(unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq));

		if (m) {
			unsigned int k = (unsigned int)__builtin_ctz(m);

			*lines = n + (uint64_t)__builtin_popcount(
					     nl & ((1u << k) - 1));
			return p + k;
		}
		n += (uint64_t)__builtin_popcount(nl);
		p += 16;
	}
#endif
	for (; p < end && *p != '"'; p++)
		n += *p == '\n';
	*lines = n;
	return p;
}

/* From CSV_FIELD_START or CSV_UNQUOTED: the fast path of plain rows. */
static const unsigned char *csv_plain(struct csv_state *s,
				      const unsigned char *buf,
				      const unsigned char *p,
				      const unsigned char *end)
{
	bool start = s->where == CSV_FIELD_START;

	for (;;) {
		const unsigned char *q =
			csv_find_special(s, p, end, &s->fields);

		if (q > p)
			start = q[-1] == s->delim;
		if (q == end)
			break;
		if (*q == '\n') {
			uint64_t nl = csv_off(s, buf, q);

			csv_newline(s, nl, nl);
			if (s->failed)
				return q + 1;
			start = true;
		} else if (*q == '\r') {
			s->where = CSV_CR;
			return q + 1;
		} else if (start) {
			s->where = CSV_QUOTED;
			s->quote_off = csv_off(s, buf, q);
			s->quote_line = s->line;
			return q + 1;
		} else {
			csv_error(s, csv_off(s, buf, q), s->line,
				  "quote inside an unquoted field");
			if (s->failed)
				return q + 1;
			start = false;
		}
		p = q + 1;
	}
	s->where = start ? CSV_FIELD_START : CSV_UNQUOTED;
	return end;
}

/* From CSV_QUOTED: up to the next quote. */
static const unsigned char *csv_quoted(struct csv_state *s,
				       const unsigned char *p,
				       const unsigned char *end)
{
	const unsigned char *q = csv_find_quote(p, end, &s->line);

	if (q == end)
		return end;
	s->where = CSV_QUOTE_SEEN;
	return q + 1;
}

/* From CSV_QUOTE_SEEN: the byte after a quote inside a quoted field. */
static const unsigned char *csv_after_quote(struct csv_state *s,
					    const unsigned char *buf,
					    const unsigned char *p)
{
	uint64_t off = csv_off(s, buf, p);

	if (*p == '"') {
		s->where = CSV_QUOTED;
	} else if (*p == s->delim) {
		s->fields++;
		s->where = CSV_FIELD_START;
	} else if (*p == '\r') {
		s->where = CSV_CR;
	} else if (*p == '\n') {
		csv_newline(s, off, off);
	} else {
		csv_error(s, off, s->line, "text after a closing quote");
		s->where = CSV_UNQUOTED;
	}
	return p + 1;
}

/* From CSV_CR: the byte after a '\r' outside quotes. */
static const unsigned char *csv_after_cr(struct csv_state *s,
					 const unsigned char *buf,
					 const unsigned char *p)
{
	uint64_t off = csv_off(s, buf, p);

	if (*p == '\n') {
		csv_newline(s, off - 1, off);
		return p + 1;
	}
	csv_error(s, off - 1, s->line, "carriage return without line feed");
	/* Leniently, the '\r' was data; this byte is read again. */
	s->where = CSV_UNQUOTED;
	return p;
}

static int csv_feed(void *state, const unsigned char *buf, size_t len)
{
	struct csv_state *s = state;
	const unsigned char *p = buf, *end = buf + len;

	if (s->failed)
		return -EINVAL;
	while (p < end && !s->failed) {
		switch (s->where) {
		case CSV_FIELD_START:
		case CSV_UNQUOTED:
			p = csv_plain(s, buf, p, end);
			break;
		case CSV_QUOTED:
			p = csv_quoted(s, p, end);
			break;
		case CSV_QUOTE_SEEN:
			p = csv_after_quote(s, buf, p);
			break;
		case CSV_CR:
			p = csv_after_cr(s, buf, p);
			break;
		}
	}
	s->pos += len;
	return s->failed ? -EINVAL : 0;
}

static int csv_finish(void *state, struct format_error *err)
{
	struct csv_state *s = state;

	if (!s->failed) {
		if (s->where == CSV_QUOTED)
			csv_error(s, s->quote_off, s->quote_line,
				  "unterminated quote");
		else if (s->where == CSV_CR)
			csv_error(s, s->pos - 1, s->line,
				  "carriage return without line feed");
		if (s->pos > s->row_start)
			csv_row_end(s, s->pos, s->pos);
	}
	if (s->on_record || !s->failed)
		return 0;
	*err = s->err;
	return -EINVAL;
}

static void csv_start(struct csv_state *s, format_record_fn *on_record,
		      void *ctx, unsigned char delim, bool quoting)
{
	memset(s, 0, sizeof(*s));
	s->on_record = on_record;
	s->ctx = ctx;
	s->class = quoting ? csv_class_csv : csv_class_tsv;
	s->delim = delim;
	s->quote = quoting ? '"' : '\n';
	s->where = CSV_FIELD_START;
	s->line = 1;
	s->row_line = 1;
	s->fields = 1;
}

static int csv_init(void *state, format_record_fn *on_record, void *ctx)
{
	csv_start(state, on_record, ctx, ',', true);
	return 0;
}

static int tsv_init(void *state, format_record_fn *on_record, void *ctx)
{
	csv_start(state, on_record, ctx, '\t', false);
	return 0;
}

static void csv_release(void *state)
{
	(void)state;
}

const struct format_ops format_csv_ops = {
	.name = "csv",
	.kind = FORMAT_CSV,
	.has_records = true,
	.state_size = sizeof(struct csv_state),
	.init = csv_init,
	.feed = csv_feed,
	.finish = csv_finish,
	.release = csv_release,
};

const struct format_ops format_tsv_ops = {
	.name = "tsv",
	.kind = FORMAT_TSV,
	.has_records = true,
	.state_size = sizeof(struct csv_state),
	.init = tsv_init,
	.feed = csv_feed,
	.finish = csv_finish,
	.release = csv_release,
};
