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
#include "tests/unit/testutil.h"

#include <check.h>
#include <dirent.h>
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

/* A growing buffer, and a deterministic generator writing into it. */

struct gen {
	uint64_t rng;
	unsigned char *buf;
	size_t len;
	size_t cap;
	bool one_line;	/* no '\n' in whitespace: jsonl */
};

/* Seeds @g with @seed, in the series $HYDRAFS_TEST_SEED picks. */
static void gen_init(struct gen *g, uint64_t seed)
{
	const char *series = getenv("HYDRAFS_TEST_SEED");

	memset(g, 0, sizeof(*g));
	g->rng = seed;
	if (series)
		g->rng ^= strtoull(series, NULL, 0) << 32;
}

static void gen_release(struct gen *g)
{
	free(g->buf);
	g->buf = NULL;
}

/* splitmix64 */
static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t below(struct gen *g, size_t n)
{
	return n ? (size_t)(rnd(g) % n) : 0;
}

static bool chance(struct gen *g, unsigned int percent)
{
	return below(g, 100) < percent;
}

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		while (g->len + n > g->cap)
			g->cap = g->cap ? 2 * g->cap : 4096;
		g->buf = realloc(g->buf, g->cap);
		ck_assert_ptr_nonnull(g->buf);
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void put_byte(struct gen *g, unsigned char c)
{
	put(g, &c, 1);
}

static void put_str(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void put_spaces(struct gen *g, size_t n)
{
	while (n--)
		put_byte(g, ' ');
}

/* Whitespace: mostly none or a little, at times a run over a block. */
static void gen_ws(struct gen *g)
{
	static const char ws[] = " \t\r\n";
	size_t n;

	if (chance(g, 2))
		n = 60 + below(g, 100);
	else if (chance(g, 50))
		n = 0;
	else
		n = 1 + below(g, 3);
	while (n--)
		put_byte(g, (unsigned char)ws[below(g, g->one_line ? 3 : 4)]);
}

static void gen_hex4(struct gen *g, unsigned int v)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";

	for (int shift = 12; shift >= 0; shift -= 4) {
		const char *digits = chance(g, 50) ? lower : upper;

		put_byte(g, (unsigned char)digits[v >> shift & 0xf]);
	}
}

/* A code point as raw UTF-8, of 2, 3 or 4 bytes, often at an edge. */
static void gen_utf8(struct gen *g)
{
	static const uint32_t edges[] = {
		0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000, 0xfeff,
		0xfffd, 0xffff, 0x10000, 0x1f600, 0x3ffff, 0x40000, 0xfffff,
		0x100000, 0x10ffff,
	};
	uint32_t cp;
	unsigned char b[4];

	if (chance(g, 30)) {
		cp = edges[below(g, N_OF(edges))];
	} else {
		switch (below(g, 3)) {
		case 0:
			cp = 0x80 + (uint32_t)below(g, 0x800 - 0x80);
			break;
		case 1:
			cp = 0x800 + (uint32_t)below(g, 0x10000 - 0x800);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			break;
		default:
			cp = 0x10000 + (uint32_t)below(g, 0x110000 - 0x10000);
			break;
		}
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		put(g, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		put(g, b, 3);
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		put(g, b, 4);
	}
}

/* One piece of a string's content. */
static void gen_string_part(struct gen *g)
{
	static const char simple[] = "\"\\/bfnrt";
	static const unsigned int u_edges[] = {
		0x0000, 0x0001, 0x001f, 0x0020, 0x0022, 0x005c, 0x007f,
		0x0080, 0x07ff, 0x0800, 0xd7ff, 0xe000, 0xfffe, 0xffff,
	};
	unsigned int v;
	size_t n;

	switch (below(g, 12)) {
	case 0: case 1: case 2: case 3:
		for (n = 1 + below(g, 10); n; n--) {
			unsigned char c = (unsigned char)(0x20 + below(g, 95));

			put_byte(g, c == '"' || c == '\\' ? 'x' : c);
		}
		break;
	case 4:
		put_byte(g, '\\');
		put_byte(g, (unsigned char)simple[below(g, 8)]);
		break;
	case 5:
		v = chance(g, 40) ? u_edges[below(g, N_OF(u_edges))]
				  : (unsigned int)below(g, 0xd800);
		put_str(g, "\\u");
		gen_hex4(g, v);
		break;
	case 6:
		put_str(g, "\\u");
		gen_hex4(g, chance(g, 20) ? 0xd83d
					  : 0xd800 + (unsigned int)below(g, 0x400));
		put_str(g, "\\u");
		gen_hex4(g, chance(g, 20) ? 0xde00
					  : 0xdc00 + (unsigned int)below(g, 0x400));
		break;
	case 7: case 8:
		gen_utf8(g);
		break;
	case 9:
		/* Runs of escaped backslashes, odd and even at block ends. */
		for (n = 1 + below(g, 5); n; n--)
			put_str(g, "\\\\");
		if (chance(g, 30))
			put_str(g, "\\\"");
		break;
	case 10:
		put_byte(g, chance(g, 50) ? 0x7f : '~');
		break;
	default:
		/* A stretch of plain bytes long enough to fill a block. */
		for (n = 40 + below(g, 100); n; n--)
			put_byte(g, (unsigned char)('a' + below(g, 26)));
		break;
	}
}

static void gen_string(struct gen *g)
{
	size_t parts;

	if (chance(g, 8))
		parts = 10 + below(g, 60);
	else
		parts = below(g, 6);
	put_byte(g, '"');
	while (parts--)
		gen_string_part(g);
	put_byte(g, '"');
}

static void gen_digits(struct gen *g, size_t n)
{
	while (n--)
		put_byte(g, (unsigned char)('0' + below(g, 10)));
}

/* Numbers of every shape, short and longer than 16 bytes. */
static void gen_number(struct gen *g)
{
	static const char *const fixed[] = {
		"0", "-0", "1e5", "-1.25E+3", "0.5", "1E-2", "-0.0e+0",
		"0e0", "9", "-9", "10", "123456789012345",
		"1234567890123456", "12345678901234567",
		"123456789012345678901234567890", "0.1234567890123456789",
		"-9007199254740993e-300", "1.5e+308", "-1.0E-0005",
	};

	if (chance(g, 25)) {
		put_str(g, fixed[below(g, N_OF(fixed))]);
		return;
	}
	if (chance(g, 30))
		put_byte(g, '-');
	if (chance(g, 20)) {
		put_byte(g, '0');
	} else if (chance(g, 3)) {
		/* Digits filling a whole block. */
		put_byte(g, (unsigned char)('1' + below(g, 9)));
		gen_digits(g, 60 + below(g, 80));
	} else {
		put_byte(g, (unsigned char)('1' + below(g, 9)));
		gen_digits(g, below(g, chance(g, 10) ? 25 : 6));
	}
	if (chance(g, 40)) {
		put_byte(g, '.');
		gen_digits(g, 1 + below(g, chance(g, 10) ? 25 : 6));
	}
	if (chance(g, 30)) {
		put_byte(g, chance(g, 50) ? 'e' : 'E');
		if (chance(g, 60))
			put_byte(g, chance(g, 50) ? '+' : '-');
		gen_digits(g, 1 + below(g, chance(g, 10) ? 20 : 3));
	}
}

static void gen_value(struct gen *g, size_t depth, size_t max_depth);

/* An array or object of @members values, each up to @max_depth deep. */
static void gen_container(struct gen *g, bool object, size_t members,
			  size_t depth, size_t max_depth)
{
	put_byte(g, object ? '{' : '[');
	gen_ws(g);
	for (size_t i = 0; i < members; i++) {
		if (i) {
			gen_ws(g);
			put_byte(g, ',');
			gen_ws(g);
		}
		if (object) {
			gen_string(g);
			gen_ws(g);
			put_byte(g, ':');
			gen_ws(g);
		}
		gen_value(g, depth + 1, max_depth);
	}
	gen_ws(g);
	put_byte(g, object ? '}' : ']');
}

static void gen_value(struct gen *g, size_t depth, size_t max_depth)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t k = below(g, 16);

	if (depth < max_depth && k < 5) {
		gen_container(g, k & 1, chance(g, 15) ? 0 : below(g, 7),
			      depth, max_depth);
		return;
	}
	if (k < 9)
		gen_string(g);
	else if (k < 13)
		gen_number(g);
	else
		put_str(g, literals[below(g, 3)]);
}

/*
 * A value @levels deep (arrays and objects at random), with siblings
 * before and after the nested one at each level, so that the kind of each
 * level must be remembered on the way out.
 */
static void gen_deep(struct gen *g, size_t levels)
{
	bool object = chance(g, 50);
	size_t before = below(g, 3), after = below(g, 3);

	if (!levels) {
		gen_value(g, 0, 1);
		return;
	}
	put_byte(g, object ? '{' : '[');
	gen_ws(g);
	for (size_t i = 0; i < before + 1 + after; i++) {
		if (i) {
			put_byte(g, ',');
			gen_ws(g);
		}
		if (object) {
			gen_string(g);
			put_byte(g, ':');
		}
		if (i == before)
			gen_deep(g, levels - 1);
		else
			gen_value(g, 0, chance(g, 20) ? 2 : 0);
	}
	gen_ws(g);
	put_byte(g, object ? '}' : ']');
}

/* Levels around the 64 the fast path keeps in a register. */
static size_t deep_levels(struct gen *g)
{
	return chance(g, 10) ? 120 + below(g, 20) : 55 + below(g, 20);
}

/* A json document of about @target bytes. */
static void gen_json_doc(struct gen *g, size_t target)
{
	bool object = chance(g, 50);
	size_t i = 0;

	gen_ws(g);
	put_byte(g, object ? '{' : '[');
	while (g->len < target) {
		if (i++)
			put_byte(g, ',');
		gen_ws(g);
		if (object) {
			gen_string(g);
			gen_ws(g);
			put_byte(g, ':');
			gen_ws(g);
		}
		if (chance(g, 4))
			gen_deep(g, deep_levels(g) - 1);
		else
			gen_value(g, 1, 1 + below(g, 8));
		gen_ws(g);
	}
	put_byte(g, object ? '}' : ']');
	gen_ws(g);
}

/* A jsonl document of about @target bytes: "\n" and "\r\n", blank lines. */
static void gen_jsonl_doc(struct gen *g, size_t target)
{
	g->one_line = true;
	while (g->len < target) {
		size_t k = below(g, 20);

		gen_ws(g);
		if (k == 1)
			gen_deep(g, deep_levels(g));
		else if (k > 1 && k < 10)
			gen_container(g, k & 1, below(g, 20), 0,
				      1 + below(g, 6));
		else if (k >= 10)
			gen_value(g, 0, 1 + below(g, 4));
		gen_ws(g);
		put_str(g, chance(g, 30) ? "\r\n" : "\n");
	}
	/* A final line without its newline. */
	if (chance(g, 50)) {
		gen_value(g, 0, 3);
		gen_ws(g);
	}
}

/* JSONTestSuite, padded */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open '%s': %s", path,
		      strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The JSONTestSuite parsing dir: $TESTDATA, else beside the build dir. */
static const char *suite_dir(void)
{
	static char dir[4096];
	const char *base = getenv("TESTDATA");

	if (!base || !*base)
		base = "../shared/testdata";
	snprintf(dir, sizeof(dir), "%s/JSONTestSuite/test_parsing", base);
	return dir;
}

/* @in padded with @before and @after spaces, into @g. */
static void pad(struct gen *g, const char *in, size_t len, size_t before,
		size_t after)
{
	g->len = 0;
	put_spaces(g, before);
	put(g, in, len);
	put_spaces(g, after);
}

/*
 * One file: padded before and after (at two alignments to the blocks),
 * fed whole, in pieces and, when short, cut in two at every offset around
 * it; as jsonl also on several lines.
 */
static void compare_suite_file(const char *name, const char *in, size_t len)
{
	static const struct format_ops *const ops[] = {
		&format_json_ops, &format_jsonl_ops,
	};
	static const size_t before[] = { PAD, 320 };
	struct gen g;
	size_t reps;

	gen_init(&g, 0);
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
			put(&g, in, len);
			put_str(&g, crlf ? "\r\n" : "\n");
		}
		put(&g, in, len);
		compare_plans(&format_jsonl_ops, g.buf, g.len, usual,
			      N_OF(usual), name);
	}
	gen_release(&g);
}

START_TEST(simd_agrees_on_jsontestsuite_padded)
{
	const char *dir = suite_dir();
	size_t files = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	ck_assert_msg(d != NULL,
		      "cannot open '%s': %s (set TESTDATA to shared/testdata)",
		      dir, strerror(errno));
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		char path[8192];
		size_t len;
		char *buf;

		if (strlen(name) < 6 || name[1] != '_' ||
		    strcmp(name + strlen(name) - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		buf = read_all(path, &len);
		compare_suite_file(name, buf, len);
		free(buf);
		files++;
	}
	closedir(d);
	ck_assert_uint_ge(files, 300);
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
	struct gen g;
	char what[64];

	gen_init(&g, 0);
	for (size_t i = 0; i < N_OF(snippets); i++) {
		snprintf(what, sizeof(what), "snippet %zu", i);
		for (size_t k = 0; k < 72; k++) {
			g.len = 0;
			put_byte(&g, '[');
			put_spaces(&g, k);
			put(&g, snippets[i].s, snippets[i].len);
			put_str(&g, ",1]");
			put_spaces(&g, PAD);
			compare_plans(&format_json_ops, g.buf, g.len, plans,
				      N_OF(plans), what);
			g.len = 0;
			put_str(&g, "1\n\r\n[");
			put_spaces(&g, k);
			put(&g, snippets[i].s, snippets[i].len);
			put_str(&g, "]\n");
			put_spaces(&g, PAD);
			compare_plans(&format_jsonl_ops, g.buf, g.len, plans,
				      N_OF(plans), what);
		}
	}
	gen_release(&g);
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
		struct gen g;
		char what[64];

		gen_init(&g, 1000 + i);
		/* Every other one on one line, which is jsonl too. */
		g.one_line = i & 1;
		gen_json_doc(&g, sizes[i / 2]);
		snprintf(what, sizeof(what), "json document %zu", i);
		for (size_t k = 0; k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_json_ops, g.buf, g.len,
					       long_plans[k], what),
				      "%s is not valid", what);
		for (size_t k = 0; g.one_line && k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_jsonl_ops, g.buf,
					       g.len, long_plans[k], what),
				      "%s is not valid jsonl", what);
		gen_release(&g);
	}
}
END_TEST

START_TEST(simd_agrees_on_valid_jsonl_documents)
{
	static const size_t sizes[] = {
		10000, 20000, 30000, 50000, 80000, 120000, 200000,
	};

	for (size_t i = 0; i < N_OF(sizes); i++) {
		struct gen g;
		char what[64];

		gen_init(&g, 2000 + i);
		gen_jsonl_doc(&g, sizes[i]);
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		for (size_t k = 0; k < N_OF(long_plans); k++)
			ck_assert_msg(!compare(&format_jsonl_ops, g.buf,
					       g.len, long_plans[k], what),
				      "%s is not valid", what);
		gen_release(&g);
	}
}
END_TEST

START_TEST(simd_agrees_on_nesting_around_64_levels)
{
	for (size_t levels = 56; levels <= 72; levels++) {
		struct gen g;
		char what[64];

		gen_init(&g, 3000 + levels);
		snprintf(what, sizeof(what), "%zu levels", levels);
		/* Long enough for the fast path, some siblings at each level. */
		g.one_line = true;
		while (g.len < 2 * PAD) {
			gen_deep(&g, levels);
			put_byte(&g, '\n');
		}
		g.one_line = false;
		ck_assert(!compare(&format_jsonl_ops, g.buf, g.len, whole,
				   what));
		g.len = 0;
		put_byte(&g, '[');
		for (size_t i = 0; i < 10; i++) {
			put_str(&g, i ? ",\n" : "\n");
			gen_deep(&g, levels - 1);
		}
		put_str(&g, "]\n");
		compare_plans(&format_json_ops, g.buf, g.len, long_plans,
			      N_OF(long_plans), what);
		gen_release(&g);
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
static size_t mutation_at(struct gen *g, size_t len, struct plan p)
{
	size_t piece = p.piece ? p.piece : len, start = 0, at;

	if (chance(g, 40))
		return below(g, len);
	if (p.first && chance(g, 50)) {
		start = p.first;
		piece = len;
	} else if (p.piece) {
		start = (p.first ? p.first : 0) + piece * below(g, len / piece);
	}
	at = start + 64 * (1 + below(g, piece / 64 + 1)) + below(g, 5) - 2;
	return at < len ? at : below(g, len);
}

/*
 * @src with one byte at @at replaced, inserted or deleted, into @out: the
 * replacement or inserted byte one of the interesting ones, chosen by @g.
 */
static void mutate(struct gen *g, struct gen *out, const unsigned char *src,
		   size_t len, size_t at)
{
	unsigned char c = interesting[below(g, N_OF(interesting))];
	size_t kind = below(g, 4);

	out->len = 0;
	put(out, src, at);
	if (kind == 0) {
		put_byte(out, c);
		put(out, src + at, len - at);
	} else if (kind == 1) {
		put(out, src + at + 1, len - at - 1);
	} else {
		put_byte(out, c);
		put(out, src + at + 1, len - at - 1);
	}
}

/* @count mutations of @base, as json and as jsonl. */
static void compare_mutations(const struct gen *base, uint64_t seed,
			      size_t count, const char *what)
{
	struct gen g, m;
	char desc[128];

	gen_init(&g, seed);
	gen_init(&m, 0);
	for (size_t i = 0; i < count; i++) {
		struct plan p = mutation_plans[below(&g, N_OF(mutation_plans))];
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
	gen_release(&g);
	gen_release(&m);
}

START_TEST(simd_agrees_on_mutated_json)
{
	for (size_t i = 0; i < 6; i++) {
		struct gen base;
		char what[64];

		gen_init(&base, 4000 + i);
		base.one_line = i & 1;
		gen_json_doc(&base, 1500 + 700 * i);
		snprintf(what, sizeof(what), "json document %zu", i);
		ck_assert(!compare(&format_json_ops, base.buf, base.len, whole,
				   what));
		compare_mutations(&base, 5000 + i, 500, what);
		gen_release(&base);
	}
}
END_TEST

START_TEST(simd_agrees_on_mutated_jsonl)
{
	for (size_t i = 0; i < 6; i++) {
		struct gen base;
		char what[64];

		gen_init(&base, 6000 + i);
		gen_jsonl_doc(&base, 1500 + 700 * i);
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		ck_assert(!compare(&format_jsonl_ops, base.buf, base.len, whole,
				   what));
		compare_mutations(&base, 7000 + i, 500, what);
		gen_release(&base);
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
		struct gen doc[2];
		size_t k;
		char what[64];

		gen_init(&doc[0], 8000 + i);
		gen_init(&doc[1], 0);
		gen_jsonl_doc(&doc[0], 20000);
		/* 30 mutations, each on the document the last one made. */
		for (k = 0; k < 30; k++)
			mutate(&doc[0], &doc[(k + 1) % 2], doc[k % 2].buf,
			       doc[k % 2].len, below(&doc[0], doc[k % 2].len));
		snprintf(what, sizeof(what), "jsonl document %zu", i);
		compare_plans(&format_jsonl_ops, doc[k % 2].buf,
			      doc[k % 2].len, long_plans, N_OF(long_plans),
			      what);
		gen_release(&doc[0]);
		gen_release(&doc[1]);
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
