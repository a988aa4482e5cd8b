/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Validator benchmark: `validators` generates in memory about
 * BENCH_VALIDATE_MB (default 200) MB of realistic content per format (json,
 * jsonl, csv, tsv, text), asserts it is valid, and prints the throughput in
 * MB/s (10^6 bytes a second) of, over the same buffer fed in 64 KiB pieces:
 *
 *   validate        the format's ops: init, feed, finish
 *   no-simd         json and jsonl: the same with the JSON machine's SIMD
 *                   fast path off (the byte-wise machine alone), to show
 *                   what the fast path gains on this CPU
 *   validate+hash   the check: validator and XXH3-128 in one pass
 *   xxh3            XXH3-128 alone (streaming API)
 *   memcpy          a copy into another buffer
 *
 * Each is the best of RUNS runs, in the CPU time of this thread (the
 * PASS/MISS column) and in wall time (the second table).  Single-threaded.
 * Exits 1 when any generated input is invalid, 2 on a usage error.
 *
 * Built by tests/bench/run.sh: cc -O2 -I$(top_srcdir) validators.c
 * core/libhydracore.a $(pkg-config --libs libxxhash) -lcsv.
 */
#define _GNU_SOURCE
#include "core/format.h"
#include "core/format_json_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define PIECE (64 * 1024)
#define RUNS 3
#define MB 1e6
#define MAX_RECORD 4096		/* longest record a generator writes */

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

struct timing {
	double cpu;
	double wall;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: the same content every run. */
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

static void *alloc_or_die(size_t len)
{
	void *p = malloc(len);

	if (!p) {
		fprintf(stderr, "validators: out of memory (%zu bytes)\n", len);
		exit(1);
	}
	return p;
}

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* JSON string bodies, escaped as they appear in the content. */
static const char *const json_names[] = {
	"some text \xc3\xa9",
	"Ren\xc3\xa9" "e O'Brien",
	"line one\\nline two",
	"tab\\there \\\"quoted\\\"",
	"path C:\\\\temp\\\\file.txt",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text",
	"emoji \xf0\x9f\x98\x80 ok",
	"escaped \\u00e9 and \\ud83d\\ude00",
	"plain ascii name with a few more words in it",
	"M\xc3\xbcller & S\xc3\xb8rensen",
};

static const char *const tags[] = { "\"a\"", "\"b\"", "\"red\"", "\"green\"",
				    "\"blue\"", "\"x-1\"" };

/* A JSON number: integer, fraction, exponent, in the usual mixes. */
static void put_number(struct buf *b)
{
	switch (pick(5)) {
	case 0:
		putf(b, "%u", pick(1000000));
		break;
	case 1:
		putf(b, "-%u.%02u", pick(10000), pick(100));
		break;
	case 2:
		putf(b, "%u.%03ue%c%u", pick(10), pick(1000),
		     pick(2) ? '-' : '+', pick(40));
		break;
	case 3:
		putf(b, "-1.25e3");
		break;
	default:
		putf(b, "0.%06u", pick(1000000));
		break;
	}
}

static void put_json_object(struct buf *b)
{
	unsigned i, ntags = pick(4);

	putf(b, "{\"id\":%u,\"name\":\"%s %u\",\"tags\":[", pick(10000000),
	     json_names[pick(10)], pick(1000));
	for (i = 0; i < ntags; i++) {
		if (i)
			put(b, ",");
		put(b, tags[pick(6)]);
	}
	put(b, "],\"score\":");
	put_number(b);
	put(b, pick(2) ? ",\"ok\":true" : ",\"ok\":false");
	switch (pick(10)) {
	case 0:
		put(b, ",\"x\":{\"k\":[1,2,{\"z\":null}],\"s\":\"\\u20ac\"}}");
		break;
	case 1:
		put(b, ",\"x\":\"caf\xc3\xa9\"}");
		break;
	default:
		put(b, ",\"x\":null}");
		break;
	}
}

static void gen_json(struct buf *b)
{
	put(b, "[\n");
	put_json_object(b);
	while (b->len < b->cap - MAX_RECORD) {
		put(b, ",\n");
		put_json_object(b);
	}
	put(b, "\n]\n");
}

static void gen_jsonl(struct buf *b)
{
	while (b->len < b->cap - MAX_RECORD) {
		put_json_object(b);
		put(b, "\n");
	}
}

/* Plain fields: no delimiter, quote or line end. */
static const char *const plain_names[] = {
	"some text", "Ren\xc3\xa9" "e O'Brien", "M\xc3\xbcller Gmbh",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "plain ascii name",
	"emoji \xf0\x9f\x98\x80", "a somewhat longer field of prose text",
};

/* Quoted CSV fields, with their quotes. */
static const char *const quoted[] = {
	"\"quoted, with comma\"", "\"she said \"\"hi\"\"\"",
	"\"two\nlines\"", "\"a, b, and c\"", "\"\"",
};

static void put_csv_field(struct buf *b, char sep, bool may_quote)
{
	if (sep == ',' && may_quote && pick(10) == 0)
		put(b, quoted[pick(5)]);
	else
		put(b, plain_names[pick(7)]);
}

static void put_row(struct buf *b, char sep)
{
	putf(b, "%u%c", pick(10000000), sep);
	put_csv_field(b, sep, true);
	putf(b, "%c", sep);
	put_number(b);
	putf(b, "%c", sep);
	put_csv_field(b, sep, true);
	put(b, pick(2) ? (sep == ',' ? ",true\n" : "\ttrue\n")
		       : (sep == ',' ? ",false\n" : "\tfalse\n"));
}

static void gen_csv(struct buf *b)
{
	put(b, "id,name,score,note,ok\n");
	while (b->len < b->cap - MAX_RECORD)
		put_row(b, ',');
}

static void gen_tsv(struct buf *b)
{
	put(b, "id\tname\tscore\tnote\tok\n");
	while (b->len < b->cap - MAX_RECORD)
		put_row(b, '\t');
}

static void gen_text(struct buf *b)
{
	static const char *const levels[] = { "INFO", "WARN", "DEBUG", "ERROR" };
	static const char *const msgs[] = {
		"request served path=/api/v1/items status=200",
		"cache miss key=user:42 caf\xc3\xa9",
		"slow query \"SELECT * FROM t WHERE a = 1\"",
		"connection reset by peer\tretrying",
		"utilisateur d\xc3\xa9" "connect\xc3\xa9",
	};
	unsigned t = 0;

	while (b->len < b->cap - MAX_RECORD) {
		t += pick(1000);
		putf(b, "2024-05-01T%02u:%02u:%02u.%03uZ %-5s [worker-%u] %s "
			"id=%u took=%u.%ums\n", t / 3600000 % 24,
		     t / 60000 % 60, t / 1000 % 60, t % 1000,
		     levels[pick(4)], pick(8), msgs[pick(5)], pick(10000000),
		     pick(500), pick(10));
	}
}

static const struct bench_format {
	enum format_kind kind;
	void (*gen)(struct buf *b);
	double target;		/* MB/s of validate, 0: none */
} formats[] = {
	{ FORMAT_JSON, gen_json, 1000 },
	{ FORMAT_JSONL, gen_jsonl, 1000 },
	{ FORMAT_CSV, gen_csv, 500 },
	{ FORMAT_TSV, gen_tsv, 0 },
	{ FORMAT_TEXT, gen_text, 0 },
};

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static double clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a method works on; a method returns 0 when the content is valid. */
struct subject {
	const struct format_ops *ops;
	void *state;
	struct format_check *check;
	XXH3_state_t *xxh;
	const unsigned char *data;
	size_t len;
	unsigned char *copy;
	struct format_sum sum;		/* of the last check or xxh3 run */
	struct format_error err;
};

static int run_validate(struct subject *s)
{
	size_t off, n;
	int ret;

	ret = s->ops->init(s->state, NULL, NULL);
	if (ret < 0)
		return ret;
	for (off = 0; off < s->len; off += n) {
		n = s->len - off < PIECE ? s->len - off : PIECE;
		if (s->ops->feed(s->state, s->data + off, n) < 0)
			break;
	}
	ret = s->ops->finish(s->state, &s->err);
	s->ops->release(s->state);
	return ret;
}

static int run_check(struct subject *s)
{
	size_t off, n;

	format_check_reset(s->check);
	for (off = 0; off < s->len; off += n) {
		n = s->len - off < PIECE ? s->len - off : PIECE;
		format_check_feed(s->check, s->data + off, n);
	}
	return format_check_finish(s->check, &s->sum, &s->err);
}

static int run_xxh3(struct subject *s)
{
	XXH128_hash_t h;
	size_t off, n;

	XXH3_128bits_reset(s->xxh);
	for (off = 0; off < s->len; off += n) {
		n = s->len - off < PIECE ? s->len - off : PIECE;
		XXH3_128bits_update(s->xxh, s->data + off, n);
	}
	h = XXH3_128bits_digest(s->xxh);
	s->sum.high = h.high64;
	s->sum.low = h.low64;
	return 0;
}

static int run_memcpy(struct subject *s)
{
	size_t off, n;

	for (off = 0; off < s->len; off += n) {
		n = s->len - off < PIECE ? s->len - off : PIECE;
		memcpy(s->copy + off, s->data + off, n);
	}
	/* Makes the copy observable, so that it is not optimized away. */
	return memcmp(s->copy + s->len - 1, s->data + s->len - 1, 1) ? 1 : 0;
}

/* Best of RUNS runs of @fn (CPU and wall separately); exits when invalid. */
static struct timing measure(struct subject *s, int (*fn)(struct subject *),
			     const char *what)
{
	struct timing best = { 1e30, 1e30 };
	int r, ret;

	for (r = 0; r < RUNS; r++) {
		double c0 = clock_of(CLOCK_THREAD_CPUTIME_ID);
		double w0 = clock_of(CLOCK_MONOTONIC);
		double c, w;

		ret = fn(s);
		c = clock_of(CLOCK_THREAD_CPUTIME_ID) - c0;
		w = clock_of(CLOCK_MONOTONIC) - w0;
		if (ret != 0) {
			fprintf(stderr, "validators: %s %s: generated input "
				"invalid (%d) at offset %llu, line %llu: %s\n",
				s->ops->name, what, ret,
				(unsigned long long)s->err.offset,
				(unsigned long long)s->err.line,
				s->err.reason ? s->err.reason : "?");
			exit(1);
		}
		best.cpu = c < best.cpu ? c : best.cpu;
		best.wall = w < best.wall ? w : best.wall;
	}
	return best;
}

static double rate(size_t len, double secs)
{
	return secs > 0 ? len / MB / secs : 0;
}

static double read_size(void)
{
	const char *s = getenv("BENCH_VALIDATE_MB");
	char *end;
	double mb;

	if (!s || !*s)
		return 200;
	errno = 0;
	mb = strtod(s, &end);
	if (errno || *end || !(mb >= 0.1) || mb > 100000) {
		fprintf(stderr, "validators: bad BENCH_VALIDATE_MB '%s'\n", s);
		exit(2);
	}
	return mb;
}

struct row {
	const char *name;
	size_t len;
	double target;
	struct timing t[4];	/* validate, check, xxh3, memcpy */
	bool has_bytewise;
	struct timing bytewise;	/* validate without the SIMD fast path */
};

static void bench_one(const struct bench_format *f, size_t size,
		      struct row *row)
{
	struct subject s = { 0 };
	struct format_sum hash_sum;
	struct buf b;

	b.cap = size + MAX_RECORD;
	b.p = alloc_or_die(b.cap);
	b.len = 0;
	f->gen(&b);

	s.ops = format_ops_of(f->kind);
	s.state = alloc_or_die(s.ops->state_size);
	s.xxh = XXH3_createState();
	s.copy = alloc_or_die(b.len);
	if (!s.xxh || format_check_new(f->kind, &s.check) < 0) {
		fprintf(stderr, "validators: out of memory\n");
		exit(1);
	}
	memset(s.copy, 0, b.len);	/* faults its pages in, untimed */
	s.data = (const unsigned char *)b.p;
	s.len = b.len;

	row->name = s.ops->name;
	row->len = b.len;
	row->target = f->target;
	row->t[0] = measure(&s, run_validate, "validate");
	row->has_bytewise = (f->kind == FORMAT_JSON || f->kind == FORMAT_JSONL) &&
			    format_json_simd_enabled();
	if (row->has_bytewise) {
		format_json_simd_enable(false);
		row->bytewise = measure(&s, run_validate, "validate");
		format_json_simd_enable(true);
	}
	row->t[1] = measure(&s, run_check, "check");
	hash_sum = s.sum;
	row->t[2] = measure(&s, run_xxh3, "xxh3");
	row->t[3] = measure(&s, run_memcpy, "memcpy");
	if (hash_sum.high != s.sum.high || hash_sum.low != s.sum.low) {
		fprintf(stderr, "validators: %s: the check's sum is not "
			"XXH3-128 of the content\n", s.ops->name);
		exit(1);
	}

	format_check_free(s.check);
	XXH3_freeState(s.xxh);
	free(s.copy);
	free(s.state);
	free(b.p);
}

static void print_rows(const struct row *rows, size_t n, bool cpu)
{
	size_t i, k;

	printf("\n%s, MB/s (best of %d):\n", cpu ?
	       "CPU time of the thread" : "wall time", RUNS);
	printf("%-6s %7s %10s %9s %14s %9s %9s%s\n", "format", "MB",
	       "validate", "no-simd", "validate+hash", "xxh3", "memcpy",
	       cpu ? "  target" : "");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		double v[4];

		for (k = 0; k < 4; k++)
			v[k] = rate(r->len, cpu ? r->t[k].cpu : r->t[k].wall);
		printf("%-6s %7.1f %10.0f ", r->name, r->len / MB, v[0]);
		if (r->has_bytewise)
			printf("%9.0f", rate(r->len, cpu ? r->bytewise.cpu :
						     r->bytewise.wall));
		else
			printf("%9s", "-");
		printf(" %14.0f %9.0f %9.0f", v[1], v[2], v[3]);
		if (cpu && r->target > 0)
			printf("  >= %.0f %s", r->target,
			       v[0] >= r->target ? "PASS" : "MISS");
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct row rows[N_FORMATS];
	size_t size, i;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: validators\n"
			"environment: BENCH_VALIDATE_MB (default 200) MB "
			"per format\n");
		return 2;
	}
	size = (size_t)(read_size() * MB);
	for (i = 0; i < N_FORMATS; i++)
		bench_one(&formats[i], size, &rows[i]);
	print_rows(rows, N_FORMATS, true);
	print_rows(rows, N_FORMATS, false);
	printf("targets are on validate, in CPU time; MB = 10^6 bytes\n");
	return 0;
}
