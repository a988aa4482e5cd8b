/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reference CSV validator the tests and the fuzz target compare
 * core/format_csv.c with: libcsv in strict mode, fed one byte at a time,
 * with our rules on top (the header's field count, CRLF only, blank lines
 * as rows of one empty field).  Header-only.
 */
#ifndef HYDRAFS_TESTS_CSV_REFERENCE_H
#define HYDRAFS_TESTS_CSV_REFERENCE_H

#include "core/format.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

struct ref {
	const unsigned char *in;
	size_t len;
	size_t i;      /* the byte being fed */
	size_t fields; /* fields of the row so far */
	size_t header; /* 0 before the header ends */
	size_t row_start;
	size_t next_field; /* where the next field starts */
	bool cr;	   /* the row ended at the '\r' at cr_off */
	size_t cr_off;
	size_t cr_fields;
	bool bad;
	struct format_error err;
};

static void ref_fail(struct ref *r, size_t offset, const char *reason)
{
	if (r->bad)
		return;
	r->bad = true;
	r->err.offset = offset;
	r->err.line = 1;
	for (size_t i = 0; i < offset; i++)
		r->err.line += r->in[i] == '\n';
	r->err.reason = reason;
}

static void ref_row(struct ref *r, size_t fields, size_t term, size_t end)
{
	/* libcsv reports a blank line as a row of no field. */
	if (fields == 0)
		fields = 1;
	if (!r->header)
		r->header = fields;
	else if (fields != r->header)
		ref_fail(r, r->row_start,
			 term == r->row_start ? "empty row" :
						"wrong field count");
	r->row_start = end;
}

static void ref_on_field(void *data, size_t len, void *ctx)
{
	struct ref *r = ctx;

	(void)data;
	(void)len;
	r->fields++;
	r->next_field = r->i + 1;
}

static void ref_on_row(int c, void *ctx)
{
	struct ref *r = ctx;

	r->next_field = r->i + 1;
	if (c == '\r') {
		r->cr = true;
		r->cr_off = r->i;
		r->cr_fields = r->fields;
	} else if (c == '\n' && r->cr) {
		r->cr = false;
		ref_row(r, r->cr_fields, r->cr_off, r->i + 1);
	} else if (c == '\n') {
		ref_row(r, r->fields, r->i, r->i + 1);
	} else {
		ref_row(r, r->fields, r->len, r->len);
	}
	r->fields = 0;
}

static int ref_no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Runs the reference over r->in; 0, or -ENOMEM when libcsv cannot start. */
static int ref_csv_run(struct ref *r)
{
	struct csv_parser p;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL))
		return -ENOMEM;
	csv_set_space_func(&p, ref_no_space);
	for (; r->i < r->len && !r->bad; r->i++) {
		if (r->cr && r->in[r->i] != '\n') {
			ref_fail(r, r->cr_off,
				 "carriage return without line feed");
			break;
		}
		if (csv_parse(&p, r->in + r->i, 1, ref_on_field, ref_on_row,
			      r) != 1)
			ref_fail(r, r->i,
				 r->in[r->i] == '"' ?
					 "quote inside an unquoted field" :
					 "text after a closing quote");
	}
	r->i = r->len;
	if (!r->bad && r->cr)
		ref_fail(r, r->cr_off, "carriage return without line feed");
	else if (!r->bad && csv_fini(&p, ref_on_field, ref_on_row, r) != 0)
		ref_fail(r, r->next_field, "unterminated quote");
	csv_free(&p);
	return 0;
}

#endif
