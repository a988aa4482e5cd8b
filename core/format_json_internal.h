// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_json_internal: the JSON machine that format_json.c runs over the
 * whole content and format_jsonl.c over each line.  Not a public header.
 *
 * The machine is fed pieces of any size with format_json_machine_run() and
 * told where the content (or line) ends with format_json_machine_end().
 * Offsets and lines go on across format_json_machine_restart(), so that
 * jsonl's errors are absolute.  jsonl runs the machine with
 * format_json_machine_run_lines() over whole pieces: there a '\n' can only
 * end a line (inside a string it would be a control character), so the
 * machine's whitespace skipping takes it as the line end, with the errors
 * format_json_machine_end() gives for a line cut there.  Used by one thread
 * at a time.
 */
#ifndef HYDRAFS_FORMAT_JSON_INTERNAL_H
#define HYDRAFS_FORMAT_JSON_INTERNAL_H

#include "core/format.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum json_state {
	S_VALUE,	/* a value: the top one, or after ':' */
	S_ARR_FIRST,	/* after '[': a value or ']' */
	S_ARR_NEXT,	/* after ',' in an array: a value */
	S_OBJ_FIRST,	/* after '{': a key or '}' */
	S_OBJ_NEXT,	/* after ',' in an object: a key */
	S_COLON,	/* after a key: ':' */
	S_AFTER,	/* after a value inside an array or object */
	S_DONE,		/* after the top value: whitespace only */
	S_STR,		/* in a string */
	S_STR_ESC,	/* after '\' */
	S_STR_HEX,	/* in the digits of \uXXXX */
	S_STR_LOW_BS,	/* after a high surrogate: a low one's '\' */
	S_STR_LOW_U,	/* its 'u' */
	S_STR_UTF8,	/* in a multi-byte UTF-8 sequence */
	S_NUM_MINUS,	/* after '-' */
	S_NUM_ZERO,	/* after a first digit '0' */
	S_NUM_INT,	/* in the integer digits */
	S_NUM_DOT,	/* after '.' */
	S_NUM_FRAC,	/* in the fraction digits */
	S_NUM_E,	/* after 'e' or 'E' */
	S_NUM_ESIGN,	/* after the exponent's sign */
	S_NUM_EXP,	/* in the exponent digits */
	S_LIT,		/* in true, false or null */
};

enum json_lines {
	JSON_LINES_OFF,		/* json: '\n' is whitespace */
	JSON_LINES_ON,		/* jsonl: '\n' ends a line, next value after it */
	JSON_LINES_STOP,	/* jsonl: and the machine stops at it */
};

struct json_machine {
	uint64_t *stack;	/* bit d set: level d + 1 is an object */
	size_t depth;		/* open arrays and objects */
	size_t cap;		/* levels the stack has room for */
	uint64_t offset;	/* bytes fed before the current piece */
	uint64_t line;		/* 1-based line of the current byte */
	uint64_t esc_offset;	/* '\' of this escape, or a high's */
	struct format_error err; /* the first error, once failed */
	int failed;		/* 0, -EINVAL or -ENOMEM */
	uint16_t uval;		/* \u digits so far */
	uint8_t state;		/* enum json_state */
	uint8_t sub;		/* \u digits seen, or literal bytes seen */
	uint8_t lit;		/* index in literals[] */
	uint8_t u8_need;	/* UTF-8 continuation bytes still to come */
	uint8_t u8_have;	/* bytes of the sequence seen */
	uint8_t u8_lo, u8_hi;	/* range of the next continuation byte */
	bool is_key;		/* the string is an object key */
	bool want_low;		/* this \u must be a low surrogate */
	uint8_t lines;		/* enum json_lines */
};

/* Ready for content at offset 0, line 1; allocates nothing. */
void format_json_machine_init(struct json_machine *m);
/* Ready for the next value, keeping the stack, offset and line. */
void format_json_machine_restart(struct json_machine *m);
/* Frees the stack; the machine may be init()ed again. */
void format_json_machine_release(struct json_machine *m);
/*
 * Feeds @len bytes: 0, -EINVAL (m->err filled; sticky) or -ENOMEM (sticky).
 * m->offset grows by @len whatever the result.
 */
int format_json_machine_run(struct json_machine *m, const unsigned char *buf,
			    size_t len);
/*
 * jsonl (@mode JSON_LINES_ON or JSON_LINES_STOP): feeds @len bytes of lines
 * and returns as format_json_machine_run().  A line whose value is complete,
 * or which is blank, ends at its '\n': with JSON_LINES_ON the machine counts
 * the line and goes on with the next one; with JSON_LINES_STOP it returns 0
 * there with m->offset at the '\n', which the caller consumes (counts the
 * line, restarts the machine).  A line cut by its '\n' inside a value fails
 * there as format_json_machine_end(m, "unexpected end of line") would.
 * Otherwise m->offset grows by @len, also on an error.
 */
int format_json_machine_run_lines(struct json_machine *m,
				  const unsigned char *buf, size_t len,
				  enum json_lines mode);
/*
 * The content ends at m->offset: 0 when it held one whole value, else
 * -EINVAL with m->err filled (@reason when it ended between tokens or
 * inside a number or literal), or the sticky error.
 */
int format_json_machine_end(struct json_machine *m, const char *reason);
/* Whether only whitespace came since init or restart. */
bool format_json_machine_is_blank(const struct json_machine *m);

/*
 * The SIMD fast path (format_json_simd.c), used by format_json_machine_run()
 * and by format_json_machine_run_lines() with JSON_LINES_ON on long pieces
 * when the CPU has it.  Results are the byte-wise machine's, to the byte:
 * the fast path only goes over what it proves valid and hands everything
 * else to the machine.
 */

/* Whether this CPU can run the fast path (x86-64 with AVX2 and PCLMUL). */
bool format_json_simd_supported(void);
/*
 * Turns the fast path on or off for the whole process (tests and benchmarks
 * compare the two; HYDRAFS_JSON_SIMD=0 in the environment starts it off).
 * Returns whether it is on: never on a CPU without it.
 */
bool format_json_simd_enable(bool on);
bool format_json_simd_enabled(void);

/*
 * Runs the fast path over @buf (the machine between tokens, m->offset at
 * @buf): returns how many bytes it proved and went over, with the machine's
 * state, depth, line and offset moved there (still between tokens), and
 * sets *@exact_to (> the returned count) to the offset in @buf up to which
 * the byte-wise machine must go before the fast path is tried again.
 */
size_t format_json_simd_run(struct json_machine *m, const unsigned char *buf,
			    size_t len, size_t *exact_to);

/* Doubles the nesting stack: 0 or -ENOMEM. */
int format_json_stack_grow(struct json_machine *m);

/* Shared tables: hex digits (value + 1), and the escapes "\x" allowed. */
extern const unsigned char format_json_hexval[256];
extern const unsigned char format_json_simple_escape[256];

static inline bool json_is_digit(unsigned char c)
{
	return (unsigned int)(c - '0') < 10;
}

#ifdef __SSE2__
static inline unsigned int json_mask_eq(__m128i v, char c)
{
	return (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
							_mm_set1_epi8(c)));
}

/*
 * The length of the number at @p when it is whole and valid in the next 16
 * bytes of the piece, else 0 for scan_number() to find out (and report the
 * error where it is).  Without branches on the number's shape: bit masks of
 * the classes of the 16 bytes, checked against -?(0|[1-9]D*)(.D+)?(e[+-]?D+)?
 * over the run of number bytes.
 */
static inline size_t json_number_len(const unsigned char *p,
				const unsigned char *end)
{
	__m128i v, digit;
	unsigned int dig, minus, sign, dot, e, span, lead, after, bad;
	size_t n;

	if (end - p < 16)
		return 0;
	v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* Signed compares: bytes >= 0x80 are not digits. */
	digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
			      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
	dig = (unsigned int)_mm_movemask_epi8(digit);
	minus = json_mask_eq(v, '-');
	sign = minus | json_mask_eq(v, '+');
	dot = json_mask_eq(v, '.');
	e = json_mask_eq(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'e');
	n = (size_t)__builtin_ctz(~(dig | sign | dot | e));
	span = (1u << n) - 1;		/* n is 16 at most */
	dig &= span;
	dot &= span;
	e &= span;
	lead = minus & 1;		/* the first digit's bit: 1 or 2 */
	lead += 1;
	after = e << 1;			/* the exponent's first digit */
	after = (after & ~sign) | (after & sign) << 1;
	bad = span & ~dig & ~(minus & 1) & ~dot & ~e & ~(e << 1 & sign);
	bad |= (dot & (dot - 1)) | (e & (e - 1));	/* two of one */
	bad |= (dot && e && dot > e);		/* '.' after 'e' */
	bad |= ~dig & (lead | dot << 1 | dot >> 1 | e >> 1 | after);
	/* A leading '0' followed by a digit. */
	bad |= json_mask_eq(v, '0') & lead & dig >> 1;
	return n < 16 && !bad ? n : 0;
}
#else
static inline size_t json_number_len(const unsigned char *p,
				const unsigned char *end)
{
	(void)p;
	(void)end;
	return 0;
}
#endif

/*
 * The length of the literal at @p, led by @c ('t', 'f' or 'n'), when it is
 * whole and correct in the piece, else 0 for scan_literal() to find out.
 * Without branches on which literal it is, as true and false alternate
 * unpredictably.
 */
static inline size_t json_literal_len(const unsigned char *p,
				 const unsigned char *end, unsigned char c)
{
	static const char words[3][4] = { "true", "alse", "null" };
	size_t is_false = c == 'f';
	uint32_t w, want;

	if (end - p < 5)
		return 0;
	memcpy(&w, p + is_false, sizeof(w));
	memcpy(&want, words[is_false + 2 * (c == 'n')], sizeof(want));
	return w == want ? 4 + is_false : 0;
}

#endif
