/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsongen: a deterministic generator of JSON and JSON Lines documents for
 * the unit tests, written into a growing buffer.  The documents are valid
 * and meant to be long and varied where a validator is easiest to get
 * wrong: strings with escapes, surrogate pairs and raw UTF-8 at the edges,
 * numbers of every shape and length, runs of whitespace, nesting around 64
 * levels, "\n" and "\r\n" lines.
 *
 * Deterministic per seed: the same seed (and the same $HYDRAFS_TEST_SEED)
 * gives the same random numbers and the same documents, so a failing test
 * repeats.  Tests that keep seeds or mutate documents depend on that: a
 * change to what is drawn, or in what order, changes every document.
 *
 * The buffer helpers fail the running test (ck_assert) when out of memory.
 * A struct jsongen is used by one thread at a time; separate ones are
 * independent.
 */
#ifndef HYDRAFS_TESTS_UNIT_JSONGEN_H
#define HYDRAFS_TESTS_UNIT_JSONGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The generator's state and its buffer: @buf holds @len bytes (owned,
 * freed by jsongen_release()).  Setting @len to 0 starts the buffer over
 * and keeps the random sequence going.
 */
struct jsongen {
	uint64_t rng;
	unsigned char *buf;
	size_t len;
	size_t cap;
	bool one_line;	/* no '\n' in whitespace: jsonl */
};

/* Seeds @g with @seed, in the series $HYDRAFS_TEST_SEED picks. */
void jsongen_init(struct jsongen *g, uint64_t seed);

/* Frees @g's buffer; @g may be NULL. */
void jsongen_release(struct jsongen *g);

/* A random number below @n (0 when @n is 0); splitmix64 underneath. */
size_t jsongen_below(struct jsongen *g, size_t n);

/* True @percent times in a hundred. */
bool jsongen_chance(struct jsongen *g, unsigned int percent);

/* Append to @g's buffer: @n bytes of @p, one byte, a string, @n spaces. */
void jsongen_put(struct jsongen *g, const void *p, size_t n);
void jsongen_put_byte(struct jsongen *g, unsigned char c);
void jsongen_put_str(struct jsongen *g, const char *s);
void jsongen_put_spaces(struct jsongen *g, size_t n);

/*
 * A value @levels deep (arrays and objects at random), with siblings
 * before and after the nested one at each level, so that the kind of each
 * level must be remembered on the way out.
 */
void jsongen_deep(struct jsongen *g, size_t levels);

/*
 * The documents are appended to @g's buffer until it holds about @target
 * bytes.  A json document (on one line if @g->one_line is set, which makes
 * it jsonl too).
 */
void jsongen_json_doc(struct jsongen *g, size_t target);

/* A jsonl document: "\n" and "\r\n", blank lines; sets @g->one_line. */
void jsongen_jsonl_doc(struct jsongen *g, size_t target);

#endif
