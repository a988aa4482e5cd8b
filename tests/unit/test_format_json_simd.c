// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON machine's SIMD fast path against the byte-wise machine: the same
 * content fed the same way must give the same verdict, error offset, line
 * and reason with the fast path on and off, as json and as jsonl (whole
 * content and record mode).  The fast path only runs on pieces of at least
 * 256 bytes, so the inputs are padded or long: JSONTestSuite padded with
 * spaces, generated valid documents, and those documents with a byte
 * replaced, inserted or deleted, at random and around the 64-byte blocks
 * the fast path goes over.  Everything is seeded: a failure repeats.
 *
 * HYDRAFS_TEST_SEED=N runs other documents and mutations (default 0);
 * HYDRAFS_TEST_DUMP=DIR writes the input of a mismatch to DIR.
 */
#include "config.h"

#include "core/format.h"
#include "core/format_json_internal.h"
#include "tests/unit/jsongen.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The padding that makes a short input long enough for the fast path. */
#define PAD 300

/* JSONTestSuite files up to this size are also cut at every offset. */
#define SHORT_MAX 1024

/*
 * How content is cut into feed() pieces: @first bytes first (0: no
 * special first piece), then @piece bytes each (0: the rest at once).
 */
struct plan {
	size_t first;
	size_t piece;
};

static const struct plan whole = { 0, 0 };

/* Fed whole and in pieces around the fast path's minimum and above. */
static const struct plan usual[] = {
	{ 0, 0 }, { 0, 256 }, { 0, 300 }, { 0, 4096 },
};

/* A jsonl record reported in record mode. */
struct rec {
	uint64_t start;
	uint64_t end;
	bool valid;
	struct format_error err;
};

struct recs {
	struct rec *r;
	size_t n;
	size_t cap;
};

/* What a validator said: the verdict, and for jsonl the records. */
struct result {
	int ret;
	struct format_error err;
	struct recs recs;
};

static void result_release(struct result *res)
{
	free(res->recs.r);
	res->recs.r = NULL;
}

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct recs *rs = ctx;
	struct rec *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		ck_assert_ptr_nonnull(rs->r);
	}
	r = &rs->r[rs->n++];
	r->start = start;
	r->end = end;
	r->valid = !err;
	r->err = err ? *err : (struct format_error){ 0 };
}

/* Feeds @len bytes as @p says; returns the last feed's result. */
static int feed_plan(const struct format_ops *ops, void *st,
		     const unsigned char *buf, size_t len, struct plan p)
{
	int ret = 0;

	for (size_t off = 0; off < len;) {
		size_t n = len - off;

		if (off == 0 && p.first)
			n = p.first < n ? p.first : n;
		else if (p.piece && p.piece < n)
			n = p.piece;
		ret = ops->feed(st, buf + off, n);
		if (ret && ret != -EINVAL)
			ck_abort_msg("%s feed at %zu: %d", ops->name, off, ret);
		off += n;
	}
	return ret;
}

/* @ops over @buf in whole-content mode, and for jsonl in record mode. */
static struct result run(const struct format_ops *ops, const void *buf,
			 size_t len, struct plan p)
{
	struct result res = { 0 };
	struct format_error unused;
	void *st = malloc(ops->state_size);
	int fed;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
	fed = feed_plan(ops, st, buf, len, p);
	res.ret = ops->finish(st, &res.err);
	ck_assert_msg(!fed || res.ret == -EINVAL, "finish after an error: %d",
		      res.ret);
	if (!res.ret)
		res.err = (struct format_error){ 0 };
	ops->release(st);
	if (ops->has_records) {
		ck_assert_int_eq(ops->init(st, on_record, &res.recs), 0);
		ck_assert_int_eq(feed_plan(ops, st, buf, len, p), 0);
		ck_assert_int_eq(ops->finish(st, &unused), 0);
		ops->release(st);
	}
	free(st);
	return res;
}

static bool same_error(const struct format_error *a,
		       const struct format_error *b)
{
	return a->offset == b->offset && a->line == b->line &&
	       (a->reason == b->reason ||
		(a->reason && b->reason && !strcmp(a->reason, b->reason)));
}

/* The index of the first record that differs, or SIZE_MAX. */
static size_t first_other_record(const struct recs *a, const struct recs *b)
{
	size_t n = a->n < b->n ? a->n : b->n;

	for (size_t i = 0; i < n; i++) {
		const struct rec *x = &a->r[i], *y = &b->r[i];

		if (x->start != y->start || x->end != y->end ||
		    x->valid != y->valid || !same_error(&x->err, &y->err))
			return i;
	}
	return a->n == b->n ? SIZE_MAX : n;
}

/* Writes the input of a mismatch to $HYDRAFS_TEST_DUMP, if set. */
static void dump(const char *ops_name, const void *buf, size_t len,
		 struct plan p)
{
	const char *dir = getenv("HYDRAFS_TEST_DUMP");
	char path[4096];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/mismatch-%s-%zu-%zu-%ld", dir,
		 ops_name, p.first, p.piece, (long)getpid());
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(buf, 1, len, f);
	fclose(f);
	fprintf(stderr, "mismatch input in '%s'\n", path);
}

static const char *why(const struct format_error *e)
{
	return e->reason ? e->reason : "";
}

/*
 * @ops over @buf fed as @p, with the fast path off and on: fails the test
 * unless both say the same.  Returns the verdict (0 or -EINVAL).
 */
static int compare(const struct format_ops *ops, const void *buf, size_t len,
		   struct plan p, const char *what)
{
	struct result off, on;
	size_t i;

	format_json_simd_enable(false);
	off = run(ops, buf, len, p);
	format_json_simd_enable(true);
	on = run(ops, buf, len, p);
	if (off.ret != on.ret || !same_error(&off.err, &on.err)) {
		dump(ops->name, buf, len, p);
		ck_abort_msg("%s as %s (%zu bytes, first %zu piece %zu): off "
			     "%d %llu:%llu '%s', on %d %llu:%llu '%s'",
			     what, ops->name, len, p.first, p.piece, off.ret,
			     (unsigned long long)off.err.offset,
			     (unsigned long long)off.err.line, why(&off.err),
			     on.ret, (unsigned long long)on.err.offset,
			     (unsigned long long)on.err.line, why(&on.err));
	}
	i = first_other_record(&off.recs, &on.recs);
	if (i != SIZE_MAX) {
		const struct rec *x = i < off.recs.n ? &off.recs.r[i] : NULL;
		const struct rec *y = i < on.recs.n ? &on.recs.r[i] : NULL;

		dump("records", buf, len, p);
		ck_abort_msg("%s records (%zu bytes, first %zu piece %zu): "
			     "%zu off, %zu on; record %zu off [%llu, %llu) "
			     "%llu '%s', on [%llu, %llu) %llu '%s'",
			     what, len, p.first, p.piece, off.recs.n,
			     on.recs.n, i,
			     (unsigned long long)(x ? x->start : 0),
			     (unsigned long long)(x ? x->end : 0),
			     (unsigned long long)(x ? x->err.offset : 0),
			     x ? why(&x->err) : "-",
			     (unsigned long long)(y ? y->start : 0),
			     (unsigned long long)(y ? y->end : 0),
			     (unsigned long long)(y ? y->err.offset : 0),
			     y ? why(&y->err) : "-");
	}
	result_release(&off);
	result_release(&on);
	return off.ret;
}

static void compare_plans(const struct format_ops *ops, const void *buf,
			  size_t len, const struct plan *p, size_t n,
			  const char *what)
{
	for (size_t i = 0; i < n; i++)
		compare(ops, buf, len, p[i], what);
}

/* The switch */

/*
 * The first test to run in the process (also without check's fork), as
 * the environment is only looked at while the switch is not decided.
 */
START_TEST(simd_starts_off_when_the_environment_says_0)
{
	ck_assert_int_eq(setenv("HYDRAFS_JSON_SIMD", "0", 1), 0);
	ck_assert(!format_json_simd_enabled());
	ck_assert_int_eq(unsetenv("HYDRAFS_JSON_SIMD"), 0);
	ck_assert(!format_json_simd_enabled());
}
END_TEST

START_TEST(simd_switch_follows_the_cpu)
{
	bool can = format_json_simd_supported();

	if (!can)
		fprintf(stderr, "test_format_json_simd: this CPU has no fast "
				"path: both runs are byte-wise\n");
	ck_assert(format_json_simd_enable(true) == can);
	ck_assert(format_json_simd_enabled() == can);
	ck_assert(!format_json_simd_enable(false));
	ck_assert(!format_json_simd_enabled());
}
END_TEST

/* JSONTestSuite, padded */

/* @in padded with @before and @after spaces, into @g. */
static void pad(struct jsongen *g, const char *in, size_t len, size_t before,
		size_t after)
{
	g->len = 0;
	jsongen_put_spaces(g, before);
	jsongen_put(g, in, len);
	jsongen_put_spaces(g, after);
}

/*
 * One file: padded before and after (at two alignments to the blocks),
 * fed whole, in pieces and, when short, cut in two at every offset around
 * it; as jsonl also on several lines.
 */
static void compare_suite_file(const char *name, const char *in, size_t len,
			       void *ctx)
{
	static const struct format_ops *const ops[] = {
		&format_json_ops, &format_jsonl_ops,
	};
	static const size_t before[] = { PAD, 320 };
	struct jsongen g;
	size_t reps;

	(void)ctx;
	jsongen_init(&g, 0);
	for (size_t b = 0; b < N_OF(before); b++) {
		pad(&g, in, len, before[b], PAD);
		for (size_t k = 0; k < N_OF(ops); k++)
			compare_plans(ops[k], g.buf, g.len, usual,
				      N_OF(usual), name);
	}
	if (name[0] == 'y')
		ck_assert_msg(!run(&format_json_ops, g.buf, g.len, whole).ret,
			      "'%s' padded is not valid", name);
	if (len <= SHORT_MAX) {
		pad(&g, in, len, PAD, PAD);
		for (size_t cut = PAD - 8; cut <= PAD + len + 8; cut++) {
			struct plan p = { cut, 0 };

			for (size_t k = 0; k < N_OF(ops); k++)
				compare(ops[k], g.buf, g.len, p, name);
		}
	}
	/* jsonl: the content on several lines, "\n" and "\r\n". */
	reps = len < 2 * PAD ? 3 + 2 * PAD / (len + 1) : 3;
	for (int crlf = 0; crlf < 2; crlf++) {
		pad(&g, "", 0, PAD, 0);
		for (size_t i = 0; i < reps; i++) {
			jsongen_put(&g, in, len);
			jsongen_put_str(&g, crlf ? "\r\n" : "\n");
		}
		jsongen_put(&g, in, len);
		compare_plans(&format_jsonl_ops, g.buf, g.len, usual,
			      N_OF(usual), name);
	}
	jsongen_release(&g);
}

START_TEST(simd_agrees_on_jsontestsuite_padded)
{
	ck_assert_uint_ge(testutil_jsontestsuite_each(compare_suite_file, NULL),
			  300);
}
END_TEST

/* Tokens across block boundaries */

#define S(s) { s, sizeof(s) - 1 }

/*
 * Values, valid and not, whose bytes the fast path must see across two
 * blocks: escapes and their carries, surrogate pairs, UTF-8 sequences,
 * numbers and literals, structure.
 */
static const struct {
	const char *s;
	size_t len;
} snippets[] = {
	S("\"\\ud83d\\ude00\""), S("\"\\uD800\\uDC00x\""), S("\"\\\\\\\\\\\"\""),
	S("\"\\\\\""), S("\"a\\\"b\\\\\""), S("\"\\/\\b\\f\\n\\r\\t\\u0000\""),
	S("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\""),
	S("\"\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\x7f\""),
	S("-1.25E+3"), S("0"), S("-0"), S("1e5"), S("0.5"),
	S("123456789012345678901234567890.5e-7"), S("true"), S("false"),
	S("null"), S("{\"a\":[]}"), S("[[],{}]"), S("{}"),
	/* And not valid. */
	S("\"\\ud83d\""), S("\"\\ud83d\\u0041\""), S("\"\\udc00\""),
	S("\"\\ud83d\\ud83d\""), S("\"\\x\""), S("\"\\u12g4\""), S("\"\\u\""),
	S("\"a\x01\""), S("\"a\x1f\""), S("\"a\nb\""), S("\"a\tb\""),
	S("\"\xc0\x80\""), S("\"\xc1\xbf\""), S("\"\xed\xa0\x80\""),
	S("\"\xf4\x90\x80\x80\""), S("\"\xf5\x80\x80\x80\""), S("\"\xe2\x82\""),
	S("\"\xe2\x82\xe2\x82\xac\""), S("\"\x80\""), S("\"\xbf\""),
	S("\"\xf0\x9f\x98\""), S("\"\xe0\x9f\xbf\""), S("\"\xf0\x8f\xbf\xbf\""),
	S("\"\xff\""), S("\"abc"), S("\xc3\xa9"), S("\xef\xbb\xbf" "1"),
	S("01"), S("-"), S("-a"), S("1."), S("1.e5"), S("1e"), S("1e+"),
	S(".5"), S("+1"), S("1.5.3"), S("1e5e3"), S("--1"), S("0x1"),
	S("1\"a\""), S("tru"), S("nul"), S("fals"), S("truex"), S("True"),
	S("[1,]"), S("{\"a\" 1}"), S("{\"a\":}"), S("{1:2}"), S("]"), S(","),
	S(":"), S("[1}"), S("{\"a\":1]"), S("\\"), S("\x00"), S("\x7f"),
};

/*
 * Each snippet as the value of an array after 0 to 71 spaces, so that it
 * starts at every offset of a block and straddles two, in a piece long
 * enough for the fast path; then as a jsonl line after two others.
 */
START_TEST(simd_agrees_on_tokens_across_blocks)
{
	static const struct plan plans[] = { { 0, 0 }, { 0, 256 } };
	struct jsongen g;
	char what[64];

	jsongen_init(&g, 0);
	for (size_t i = 0; i < N_OF(snippets); i++) {
		snprintf(what, sizeof(what), "snippet %zu", i);
		for (size_t k = 0; k < 72; k++) {
			g.len = 0;
			jsongen_put_byte(&g, '[');
			jsongen_put_spaces(&g, k);
			jsongen_put(&g, snippets[i].s, snippets[i].len);
			jsongen_put_str(&g, ",1]");
			jsongen_put_spaces(&g, PAD);
			compare_plans(&format_json_ops, g.buf, g.len, plans,
				      N_OF(plans), what);
			g.len = 0;
			jsongen_put_str(&g, "1\n\r\n[");
			jsongen_put_spaces(&g, k);
			jsongen_put(&g, snippets[i].s, snippets[i].len);
			jsongen_put_str(&g, "]\n");
			jsongen_put_spaces(&g, PAD);
			compare_plans(&format_jsonl_ops, g.buf, g.len, plans,
				      N_OF(plans), what);
		}
	}
	jsongen_release(&g);
}
END_TEST

/* Generated valid documents */

/* Plans for long documents: small and large pieces, an odd first cut. */
static const struct plan long_plans[] = {
	{ 0, 0 }, { 0, 256 }, { 0, 300 }, { 0, 1000 }, { 0, 4096 },
	{ 0, 65536 }, { 77, 777 }, { 300, 0 },
};

START_TEST(simd_agrees_on_valid_json_documents)
{
	static const size_t sizes[] = {
		10000, 20000, 30000, 50000, 80000, 120000, 200000,
	};

	for (size_t i = 0; i < 2 * N_OF(sizes); i++) {
		struct jsongen g;
		char what[64];

		jsongen_init(&g, 1000 + i);
		/* Every other one on one line, which is jsonl too. */
		g.one_line = i & 1;
		jsongen_json_doc(&g, sizes[i / 2]);
		snprintf(what, sizeof(what), "json document %zu", i);
		for (size_t k = 0; k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_json_ops, g.buf, g.len,
					       long_plans[k], what),
				      "%s is not valid", what);
		for (size_t k = 0; g.one_line && k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_jsonl_ops, g.buf,
					       g.len, long_plans[k], what),
				      "%s is not valid jsonl", what);
		jsongen_release(&g);
	}
}
END_TEST

START_TEST(simd_agrees_on_valid_jsonl_documents)
{
	static const size_t sizes[] = {
		10000, 20000, 30000, 50000, 80000, 120000, 200000,
	};

	for (size_t i = 0; i < N_OF(sizes); i++) {
		struct jsongen g;
		char what[64];

		jsongen_init(&g, 2000 + i);
		jsongen_jsonl_doc(&g, sizes[i]);
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		for (size_t k = 0; k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_jsonl_ops, g.buf,
					       g.len, long_plans[k], what),
				      "%s is not valid", what);
		jsongen_release(&g);
	}
}
END_TEST

START_TEST(simd_agrees_on_nesting_around_64_levels)
{
	for (size_t levels = 56; levels <= 72; levels++) {
		struct jsongen g;
		char what[64];

		jsongen_init(&g, 3000 + levels);
		snprintf(what, sizeof(what), "%zu levels", levels);
		/* Long enough for the fast path, some siblings at each level. */
		g.one_line = true;
		while (g.len < 2 * PAD) {
			jsongen_deep(&g, levels);
			jsongen_put_byte(&g, '\n');
		}
		g.one_line = false;
		ck_assert(!compare(&format_jsonl_ops, g.buf, g.len, whole,
				   what));
		g.len = 0;
		jsongen_put_byte(&g, '[');
		for (size_t i = 0; i < 10; i++) {
			jsongen_put_str(&g, i ? ",\n" : "\n");
			jsongen_deep(&g, levels - 1);
		}
		jsongen_put_str(&g, "]\n");
		compare_plans(&format_json_ops, g.buf, g.len, long_plans,
			      N_OF(long_plans), what);
		jsongen_release(&g);
	}
}
END_TEST

/* Mutations of valid documents */

static const unsigned char interesting[] = {
	'"', '\\', '\n', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.',
	0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4,
	0xf5, 0xff, ' ', 'u', '1', '\r',
};

/* Plans for mutated documents, each mutation tried with one and whole. */
static const struct plan mutation_plans[] = {
	{ 0, 256 }, { 0, 300 }, { 0, 1000 }, { 0, 0 }, { 100, 0 },
};

/*
 * Where to mutate @len bytes fed as @p: anywhere, or 2 bytes either side
 * of a multiple of 64 from the start of a piece, where the fast path's
 * blocks meet.
 */
static size_t mutation_at(struct jsongen *g, size_t len, struct plan p)
{
	size_t piece = p.piece ? p.piece : len, start = 0, at;

	if (jsongen_chance(g, 40))
		return jsongen_below(g, len);
	if (p.first && jsongen_chance(g, 50)) {
		start = p.first;
		piece = len;
	} else if (p.piece) {
		start = (p.first ? p.first : 0) +
			piece * jsongen_below(g, len / piece);
	}
	at = start + 64 * (1 + jsongen_below(g, piece / 64 + 1));
	at = at + jsongen_below(g, 5) - 2;
	return at < len ? at : jsongen_below(g, len);
}

/*
 * @src with one byte at @at replaced, inserted or deleted, into @out: the
 * replacement or inserted byte one of the interesting ones, chosen by @g.
 */
static void mutate(struct jsongen *g, struct jsongen *out,
		   const unsigned char *src, size_t len, size_t at)
{
	unsigned char c = interesting[jsongen_below(g, N_OF(interesting))];
	size_t kind = jsongen_below(g, 4);

	out->len = 0;
	jsongen_put(out, src, at);
	if (kind == 0) {
		jsongen_put_byte(out, c);
		jsongen_put(out, src + at, len - at);
	} else if (kind == 1) {
		jsongen_put(out, src + at + 1, len - at - 1);
	} else {
		jsongen_put_byte(out, c);
		jsongen_put(out, src + at + 1, len - at - 1);
	}
}

/* @count mutations of @base, as json and as jsonl. */
static void compare_mutations(const struct jsongen *base, uint64_t seed,
			      size_t count, const char *what)
{
	struct jsongen g, m;
	char desc[128];

	jsongen_init(&g, seed);
	jsongen_init(&m, 0);
	for (size_t i = 0; i < count; i++) {
		size_t which = jsongen_below(&g, N_OF(mutation_plans));
		struct plan p = mutation_plans[which];
		size_t at = mutation_at(&g, base->len, p);

		mutate(&g, &m, base->buf, base->len, at);
		snprintf(desc, sizeof(desc), "%s mutation %zu at %zu", what, i,
			 at);
		compare(&format_json_ops, m.buf, m.len, p, desc);
		compare(&format_jsonl_ops, m.buf, m.len, p, desc);
		if (p.piece || p.first) {
			compare(&format_json_ops, m.buf, m.len, whole, desc);
			compare(&format_jsonl_ops, m.buf, m.len, whole, desc);
		}
	}
	jsongen_release(&g);
	jsongen_release(&m);
}

START_TEST(simd_agrees_on_mutated_json)
{
	for (size_t i = 0; i < 6; i++) {
		struct jsongen base;
		char what[64];

		jsongen_init(&base, 4000 + i);
		base.one_line = i & 1;
		jsongen_json_doc(&base, 1500 + 700 * i);
		snprintf(what, sizeof(what), "json document %zu", i);
		ck_assert(!compare(&format_json_ops, base.buf, base.len, whole,
				   what));
		compare_mutations(&base, 5000 + i, 500, what);
		jsongen_release(&base);
	}
}
END_TEST

START_TEST(simd_agrees_on_mutated_jsonl)
{
	for (size_t i = 0; i < 6; i++) {
		struct jsongen base;
		char what[64];

		jsongen_init(&base, 6000 + i);
		jsongen_jsonl_doc(&base, 1500 + 700 * i);
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		ck_assert(!compare(&format_jsonl_ops, base.buf, base.len, whole,
				   what));
		compare_mutations(&base, 7000 + i, 500, what);
		jsongen_release(&base);
	}
}
END_TEST

/*
 * jsonl record mode: many bad lines in one document, each record's range
 * and error the same on and off (compare() checks the records too).
 */
START_TEST(simd_agrees_on_jsonl_records_with_bad_lines)
{
	for (size_t i = 0; i < 8; i++) {
		struct jsongen doc[2];
		size_t k;
		char what[64];

		jsongen_init(&doc[0], 8000 + i);
		jsongen_init(&doc[1], 0);
		jsongen_jsonl_doc(&doc[0], 20000);
		/* 30 mutations, each on the document the last one made. */
		for (k = 0; k < 30; k++)
			mutate(&doc[0], &doc[(k + 1) % 2], doc[k % 2].buf,
			       doc[k % 2].len,
			       jsongen_below(&doc[0], doc[k % 2].len));
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		compare_plans(&format_jsonl_ops, doc[k % 2].buf,
			      doc[k % 2].len, long_plans, N_OF(long_plans),
			      what);
		jsongen_release(&doc[0]);
		jsongen_release(&doc[1]);
	}
}
END_TEST

static Suite *format_json_simd_suite(void)
{
	Suite *s = suite_create("format_json_simd");
	TCase *tc;

	tc = tcase_create("switch");
	tcase_add_test(tc, simd_starts_off_when_the_environment_says_0);
	tcase_add_test(tc, simd_switch_follows_the_cpu);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsontestsuite");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, simd_agrees_on_jsontestsuite_padded);
	tcase_add_test(tc, simd_agrees_on_tokens_across_blocks);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, simd_agrees_on_valid_json_documents);
	tcase_add_test(tc, simd_agrees_on_valid_jsonl_documents);
	tcase_add_test(tc, simd_agrees_on_nesting_around_64_levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("mutations");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, simd_agrees_on_mutated_json);
	tcase_add_test(tc, simd_agrees_on_mutated_jsonl);
	tcase_add_test(tc, simd_agrees_on_jsonl_records_with_bad_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(format_json_simd_suite);
}
