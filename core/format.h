/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format: streaming validators of file content, one module per format
 * (format_json.c, format_csv.c, ...) behind one small interface.
 *
 * A validator is fed the content in pieces of any size, in order, and
 * says at the end whether the whole was valid; the first error carries its
 * byte offset (0-based, from the start of the content), line (1-based) and
 * a static reason.  Feeding the same bytes cut anywhere gives the same
 * result.  Memory stays bounded whatever the input size (the JSON nesting
 * stack grows on the heap, one bit per level).
 *
 * Record formats (jsonl, csv, tsv, text) can also run in record mode: with
 * an @on_record callback, every complete record is reported with its byte
 * range and its error (NULL when valid), and an invalid record does not
 * stop the validation of the ones after it.  A record ends after its
 * newline ("\n", or "\r\n"); a CSV record's quoted newlines are inside it.
 * A final record without its newline is reported by finish().
 *
 * A validator object is used by one thread at a time.
 */
#ifndef HYDRAFS_FORMAT_H
#define HYDRAFS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum format_kind {
	FORMAT_OPAQUE,		/* any bytes; checksum only */
	FORMAT_TEXT,		/* any bytes, line records */
	FORMAT_JSON,		/* RFC 8259, strict, exactly one value */
	FORMAT_JSONL,		/* every non-empty line one JSON value */
	FORMAT_CSV,		/* RFC 4180, every row the header's field count */
	FORMAT_TSV,		/* the same with tabs */
	FORMAT_COUNT
};

/* Where and why content is invalid. */
struct format_error {
	uint64_t offset;	/* byte offset of the first bad byte */
	uint64_t line;		/* 1-based line of that byte */
	const char *reason;	/* static, lower case */
};

/*
 * Called in record mode for each complete record [@start, @end) (byte
 * offsets in the content); @err is NULL when the record is valid.
 */
typedef void format_record_fn(void *ctx, uint64_t start, uint64_t end,
			      const struct format_error *err);

struct format_ops {
	const char *name;	/* "json", ... */
	enum format_kind kind;
	bool has_records;	/* supports record mode */
	size_t state_size;	/* bytes of state the caller provides */
	/*
	 * Prepares @state (state_size bytes, caller's storage aligned as
	 * malloc() aligns).  @on_record NULL: whole-content mode.  0,
	 * -EINVAL when @on_record is given to a format without records, or
	 * -ENOMEM.
	 */
	int (*init)(void *state, format_record_fn *on_record, void *ctx);
	/*
	 * Feeds the next @len bytes.  0, -EINVAL once the content is known
	 * to be invalid in whole-content mode (further feeds are ignored and
	 * return -EINVAL again), or -ENOMEM.
	 */
	int (*feed)(void *state, const unsigned char *buf, size_t len);
	/*
	 * The end of the content: 0 when valid, else -EINVAL with *@err
	 * filled (the first error), or -ENOMEM when a feed() said so.  In
	 * record mode reports the final record without its newline, and
	 * returns 0 (each record's verdict went to the callback, whose @err
	 * is only valid during the call).  Row-level errors (a CSV row's
	 * field count) point at the row's first byte.  Empty content is
	 * valid in every format but json ("empty content"; the commit
	 * accepts an empty file whatever its format).
	 */
	int (*finish)(void *state, struct format_error *err);
	/* Frees what init() allocated; the state may be init()ed again. */
	void (*release)(void *state);
};

extern const struct format_ops format_opaque_ops;
extern const struct format_ops format_text_ops;
extern const struct format_ops format_json_ops;
extern const struct format_ops format_jsonl_ops;
extern const struct format_ops format_csv_ops;
extern const struct format_ops format_tsv_ops;

/* The ops of @kind, or NULL. */
const struct format_ops *format_ops_of(enum format_kind kind);

/* The kind named @name ("json", ...), or -EINVAL. */
int format_kind_parse(const char *name);

/* The name of @kind. */
const char *format_kind_name(enum format_kind kind);

/* The default kind for a file name, by its extension. */
enum format_kind format_kind_for_name(const char *name);

/*
 * A check: one validator plus the XXH3-128 of the same bytes, in one pass.
 * Caller frees with format_check_free().
 */
struct format_check;

struct format_sum {
	uint64_t high;
	uint64_t low;
};

int format_check_new(enum format_kind kind, struct format_check **out);
void format_check_free(struct format_check *c);
/* Starts over, as new. */
void format_check_reset(struct format_check *c);
/* 0, -EINVAL (content invalid; hashing goes on) or -ENOMEM. */
int format_check_feed(struct format_check *c, const void *buf, size_t len);
/* Bytes fed so far. */
uint64_t format_check_fed(const struct format_check *c);
/*
 * Ends the content: *@sum is its XXH3-128; 0 when valid, else -EINVAL with
 * *@err filled.  The check must be reset before it is fed again.
 */
int format_check_finish(struct format_check *c, struct format_sum *sum,
			struct format_error *err);

/*
 * A running XXH3-128, for content that only grows (append mode): its state
 * can be saved beside the content and loaded again, so that a sum of what
 * was already hashed is never recomputed.  The saved form is specific to
 * the library version and machine (a mismatch is -EINVAL: hash again).
 */
struct format_hasher;

#define FORMAT_HASHER_SAVED_MAX 1024

int format_hasher_new(struct format_hasher **out);
void format_hasher_free(struct format_hasher *h);
void format_hasher_update(struct format_hasher *h, const void *buf,
			  size_t len);
/* The sum of everything fed so far; the hasher goes on. */
void format_hasher_sum(const struct format_hasher *h, struct format_sum *sum);
/* Bytes fed so far. */
uint64_t format_hasher_len(const struct format_hasher *h);
void format_hasher_copy(struct format_hasher *dst,
			const struct format_hasher *src);
/* Saves the state into @buf; its length, 0 when @size is too small. */
size_t format_hasher_save(const struct format_hasher *h, void *buf,
			  size_t size);
/* 0, or -EINVAL when @buf is not a state this build saved (reset then). */
int format_hasher_load(struct format_hasher *h, const void *buf, size_t len);
/* The hash state of a check, saved as format_hasher_save() does. */
size_t format_check_save_hash(const struct format_check *c, void *buf,
			      size_t size);

/* The checksum as 32 lower-case hex digits and a NUL. */
void format_sum_hex(const struct format_sum *sum, char out[33]);
/* Parses 32 hex digits; 0 or -EINVAL. */
int format_sum_parse(const char *hex, struct format_sum *sum);

#endif
