// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/rules.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The rules of @text (a C string), failing the test on an error. */
static struct rules *parse_ok(const char *text)
{
	struct rules_error err = { 0, NULL };
	struct rules *r = NULL;
	int ret = rules_parse(text, strlen(text), &r, &err);

	ck_assert_msg(ret == 0, "rules_parse returned %d: line %u: %s", ret,
		      err.line, err.reason ? err.reason : "(none)");
	ck_assert_ptr_nonnull(r);
	return r;
}

static struct rule_policy lookup(const struct rules *r, const char *path)
{
	struct rule_policy p;

	rules_lookup(r, path, &p);
	return p;
}

struct want {
	const char *path;
	enum format_kind format;
	enum rule_invalid invalid;
	enum rule_mode mode;
	enum rule_recover recover;
	enum rule_versions versions;
};

static void check_wants(const struct rules *r, const struct want *w,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rule_policy p = lookup(r, w[i].path);

		ck_assert_msg(p.format == w[i].format,
			      "'%s': format %d, not %d", w[i].path, p.format,
			      w[i].format);
		ck_assert_msg(p.invalid == w[i].invalid,
			      "'%s': invalid %d, not %d", w[i].path, p.invalid,
			      w[i].invalid);
		ck_assert_msg(p.mode == w[i].mode, "'%s': mode %d, not %d",
			      w[i].path, p.mode, w[i].mode);
		ck_assert_msg(p.recover == w[i].recover,
			      "'%s': recover %d, not %d", w[i].path, p.recover,
			      w[i].recover);
		ck_assert_msg(p.versions == w[i].versions,
			      "'%s': versions %d, not %d", w[i].path,
			      p.versions, w[i].versions);
	}
}

#define REJECT RULE_INVALID_REJECT
#define ACCEPT RULE_INVALID_ACCEPT
#define QUARANTINE RULE_INVALID_QUARANTINE
#define FILE_ RULE_MODE_FILE
#define LOG RULE_MODE_LOG
#define SALVAGE RULE_RECOVER_SALVAGE
#define LAST_GOOD RULE_RECOVER_LAST_GOOD
#define V_DEFAULT RULE_VERSIONS_DEFAULT

static const struct want defaults[] = {
	{ "a.json", FORMAT_JSON, REJECT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "a.JSON", FORMAT_JSON, REJECT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "d/e/b.Json", FORMAT_JSON, REJECT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "a.jsonl", FORMAT_JSONL, REJECT, LOG, SALVAGE, V_DEFAULT },
	{ "x/a.ndjson", FORMAT_JSONL, REJECT, LOG, SALVAGE, V_DEFAULT },
	{ "a.csv", FORMAT_CSV, REJECT, FILE_, SALVAGE, V_DEFAULT },
	{ "a.tsv", FORMAT_TSV, REJECT, FILE_, SALVAGE, V_DEFAULT },
	{ "a.txt", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE, V_DEFAULT },
	{ "var/a.log", FORMAT_TEXT, ACCEPT, LOG, SALVAGE, V_DEFAULT },
	{ "A.LOG", FORMAT_TEXT, ACCEPT, LOG, SALVAGE, V_DEFAULT },
	{ "a.bin", FORMAT_OPAQUE, ACCEPT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "Makefile", FORMAT_OPAQUE, ACCEPT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "a.json.gz", FORMAT_OPAQUE, ACCEPT, FILE_, LAST_GOOD, V_DEFAULT },
	/* The extension of the name, not of a directory. */
	{ "d.json/notes", FORMAT_OPAQUE, ACCEPT, FILE_, LAST_GOOD, V_DEFAULT },
	{ "d.log/a.csv", FORMAT_CSV, REJECT, FILE_, SALVAGE, V_DEFAULT },
};

/* Defaults */

START_TEST(rules_lookup_without_rules_gives_the_defaults)
{
	check_wants(NULL, defaults, N_OF(defaults));
}
END_TEST

START_TEST(rules_without_sections_give_the_defaults)
{
	static const char *const texts[] = {
		"",
		"\n\n",
		"# nothing here\n; nor here\n",
		"   \t\r\n  # indented comment\r\n",
	};

	for (size_t i = 0; i < N_OF(texts); i++) {
		struct rules *r = parse_ok(texts[i]);

		check_wants(r, defaults, N_OF(defaults));
		rules_free(r);
	}
}
END_TEST

START_TEST(rules_defaults_follow_the_format_a_rule_sets)
{
	struct rules *r = parse_ok("[*.dat]\n"
				   "format = jsonl\n"
				   "[*.jsonl]\n"
				   "format = opaque\n"
				   "[*.log]\n"
				   "format = json\n"
				   "[*.clog]\n"
				   "format = csv\n"
				   "[a.clog]\n"
				   "mode = file\n"
				   "[*.tsv]\n"
				   "format = text\n");
	static const struct want w[] = {
		{ "a.dat", FORMAT_JSONL, REJECT, LOG, SALVAGE, V_DEFAULT },
		{ "a.jsonl", FORMAT_OPAQUE, ACCEPT, FILE_, LAST_GOOD,
		  V_DEFAULT },
		/* json has no records to append: file mode. */
		{ "a.log", FORMAT_JSON, REJECT, FILE_, LAST_GOOD, V_DEFAULT },
		{ "b.clog", FORMAT_CSV, REJECT, FILE_, SALVAGE, V_DEFAULT },
		{ "a.tsv", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE, V_DEFAULT },
	};

	check_wants(r, w, N_OF(w));
	rules_free(r);

	/* A .log name holding csv records stays a log. */
	r = parse_ok("[*.log]\nformat = csv\n");
	ck_assert_int_eq(lookup(r, "x.log").mode, RULE_MODE_LOG);
	ck_assert_int_eq(lookup(r, "x.log").invalid, RULE_INVALID_REJECT);
	rules_free(r);
}
END_TEST

/* Overrides */

START_TEST(rules_later_sections_override_earlier_ones_key_by_key)
{
	struct rules *r = parse_ok("[*]\n"
				   "format = text\n"
				   "invalid = accept\n"
				   "[*.json]\n"
				   "format = json\n"
				   "[special.json]\n"
				   "invalid = quarantine-records\n"
				   "recover = off\n"
				   "[logs/**]\n"
				   "mode = log\n"
				   "versions = off\n"
				   "[keep/*]\n"
				   "versions = on\n");
	static const struct want w[] = {
		{ "a.json", FORMAT_JSON, ACCEPT, FILE_, LAST_GOOD, V_DEFAULT },
		{ "a.bin", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE, V_DEFAULT },
		{ "a.csv", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE, V_DEFAULT },
		{ "d/special.json", FORMAT_JSON, QUARANTINE, FILE_,
		  RULE_RECOVER_OFF, V_DEFAULT },
		{ "logs/x/special.json", FORMAT_JSON, QUARANTINE, LOG,
		  RULE_RECOVER_OFF, RULE_VERSIONS_OFF },
		{ "logs/a.bin", FORMAT_TEXT, ACCEPT, LOG, SALVAGE,
		  RULE_VERSIONS_OFF },
		{ "keep/a.tmp", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE,
		  RULE_VERSIONS_ON },
		{ "keep/d/a.tmp", FORMAT_TEXT, ACCEPT, FILE_, SALVAGE,
		  V_DEFAULT },
	};

	check_wants(r, w, N_OF(w));
	rules_free(r);
}
END_TEST

START_TEST(rules_the_last_matching_section_wins)
{
	struct rules *r = parse_ok("[*.json]\nformat = json\n"
				   "[*]\nformat = opaque\n"
				   "[*.json]\ninvalid = accept\n"
				   "[*.json]\ninvalid = quarantine-records\n"
				   "[*.none]\n");

	ck_assert_int_eq(lookup(r, "a.json").format, FORMAT_OPAQUE);
	ck_assert_int_eq(lookup(r, "a.json").invalid, RULE_INVALID_QUARANTINE);
	ck_assert_int_eq(lookup(r, "a.json").recover, RULE_RECOVER_LAST_GOOD);
	ck_assert_int_eq(lookup(r, "a.csv").format, FORMAT_OPAQUE);
	ck_assert_int_eq(lookup(r, "a.csv").invalid, RULE_INVALID_ACCEPT);
	ck_assert_int_eq(lookup(r, "a.none").format, FORMAT_OPAQUE);
	rules_free(r);
}
END_TEST

START_TEST(rules_parse_reads_every_value)
{
	static const struct {
		const char *text;
		struct rule_policy want;
	} cases[] = {
		{ "format = opaque", { .format = FORMAT_OPAQUE } },
		{ "format = text", { .format = FORMAT_TEXT } },
		{ "format = json", { .format = FORMAT_JSON } },
		{ "format = jsonl", { .format = FORMAT_JSONL } },
		{ "format = csv", { .format = FORMAT_CSV } },
		{ "format = tsv", { .format = FORMAT_TSV } },
		{ "invalid = reject", { .invalid = RULE_INVALID_REJECT } },
		{ "invalid = accept", { .invalid = RULE_INVALID_ACCEPT } },
		{ "invalid = quarantine-records",
		  { .invalid = RULE_INVALID_QUARANTINE } },
		{ "mode = file", { .mode = RULE_MODE_FILE } },
		{ "mode = log", { .mode = RULE_MODE_LOG } },
		{ "recover = salvage", { .recover = RULE_RECOVER_SALVAGE } },
		{ "recover = last-good",
		  { .recover = RULE_RECOVER_LAST_GOOD } },
		{ "recover = off", { .recover = RULE_RECOVER_OFF } },
		{ "versions = on", { .versions = RULE_VERSIONS_ON } },
		{ "versions = off", { .versions = RULE_VERSIONS_OFF } },
	};

	/* Two names whose defaults differ in every key but versions. */
	static const char *const names[] = { "a.json", "b/a.log" };

	for (size_t i = 0; i < N_OF(cases); i++) {
		const char *key = cases[i].text;
		char text[128];
		struct rules *r;

		snprintf(text, sizeof(text), "[*]\n%s\n", key);
		r = parse_ok(text);
		for (size_t j = 0; j < N_OF(names); j++) {
			struct rule_policy p = lookup(r, names[j]);

			if (!strncmp(key, "format", 6))
				ck_assert_int_eq(p.format,
						 cases[i].want.format);
			else if (!strncmp(key, "invalid", 7))
				ck_assert_int_eq(p.invalid,
						 cases[i].want.invalid);
			else if (!strncmp(key, "mode", 4))
				ck_assert_int_eq(p.mode, cases[i].want.mode);
			else if (!strncmp(key, "recover", 7))
				ck_assert_int_eq(p.recover,
						 cases[i].want.recover);
			else
				ck_assert_int_eq(p.versions,
						 cases[i].want.versions);
		}
		rules_free(r);
	}
}
END_TEST

/* Syntax */

START_TEST(rules_parse_accepts_crlf_blanks_and_comments)
{
	struct rules *r = parse_ok("# rules\r\n"
				   "; more\r\n"
				   "\r\n"
				   "  [ *.dat ]  \r\n"
				   "\t# inside\r\n"
				   "   format\t=\tjsonl   \r\n"
				   "mode=file\r\n"
				   "[ data/ ** ]\r\n"
				   "versions = off\r");

	ck_assert_int_eq(lookup(r, "a.dat").format, FORMAT_JSONL);
	ck_assert_int_eq(lookup(r, "a.dat").mode, RULE_MODE_FILE);
	/* Blanks inside the glob stay. */
	ck_assert_int_eq(lookup(r, "data/ x").versions, RULE_VERSIONS_OFF);
	ck_assert_int_eq(lookup(r, "data/x").versions, RULE_VERSIONS_DEFAULT);
	rules_free(r);
}
END_TEST

START_TEST(rules_parse_takes_a_text_without_its_nul)
{
	static const char text[] = "[*.dat]\nformat = csv\nmode = log\n";
	struct rules_error err = { 0, NULL };
	struct rules *r = NULL;

	/* Cut inside "log": the last line reads "mode = lo". */
	ck_assert_int_eq(rules_parse(text, sizeof(text) - 3, &r, &err),
			 -EINVAL);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_str_eq(err.reason, "unknown mode");
	ck_assert_ptr_null(r);
	ck_assert_int_eq(rules_parse(text, strlen("[*.dat]\nformat = csv"), &r,
				     &err),
			 0);
	ck_assert_int_eq(lookup(r, "a.dat").format, FORMAT_CSV);
	ck_assert_int_eq(lookup(r, "a.dat").mode, RULE_MODE_FILE);
	rules_free(r);
}
END_TEST

START_TEST(rules_section_globs_keep_escapes_and_classes)
{
	struct rules *r = parse_ok("[[[]x\\]]\nformat = csv\n"
				   "[a\\]b]\nformat = tsv\n"
				   "[ sp\\ ]\nformat = json\n"
				   "[/root.txt]\nformat = jsonl\n");

	ck_assert_int_eq(lookup(r, "[x]").format, FORMAT_CSV);
	ck_assert_int_eq(lookup(r, "a]b").format, FORMAT_TSV);
	ck_assert_int_eq(lookup(r, "sp ").format, FORMAT_JSON);
	ck_assert_int_eq(lookup(r, "sp").format, FORMAT_OPAQUE);
	ck_assert_int_eq(lookup(r, "root.txt").format, FORMAT_JSONL);
	ck_assert_int_eq(lookup(r, "d/root.txt").format, FORMAT_TEXT);
	rules_free(r);
}
END_TEST

START_TEST(rules_parse_reports_each_error_with_its_line)
{
	static const struct {
		const char *text;
		unsigned int line;
		const char *reason;
	} cases[] = {
		{ "format = json\n", 1, "key outside a section" },
		{ "# c\n\nmode = log\n[x]\n", 3, "key outside a section" },
		{ "[x]\nformat json\n", 2, "expected key = value" },
		{ "[x]\n= json\n", 2, "expected key = value" },
		{ "[x]\nhello\n", 2, "expected key = value" },
		{ "[x]\nformat = json\ncolour = red\n", 3, "unknown key" },
		{ "[x]\nFormat = json\n", 2, "unknown key" },
		{ "[x]\nformat = xml\n", 2, "unknown format" },
		{ "[x]\nformat = JSON\n", 2, "unknown format" },
		{ "[x]\nformat = json # comment\n", 2, "unknown format" },
		{ "[x]\nformat = jsonjsonjsonjsonjson\n", 2, "unknown format" },
		{ "[x]\ninvalid = maybe\n", 2, "unknown invalid policy" },
		{ "[x]\nmode = append\n", 2, "unknown mode" },
		{ "[x]\nrecover = always\n", 2, "unknown recover policy" },
		{ "[x]\nversions = yes\n", 2, "unknown versions setting" },
		{ "[x]\nformat =\n", 2, "missing value" },
		{ "[x]\nmode = log\nmode = file\n", 3, "duplicate key" },
		{ "[x]\nmode = log\n[x]\nmode = file\n[y]\nmode = log\n"
		  "format = csv\nmode = file\n",
		  8, "duplicate key" },
		{ "[*.json\nformat = json\n", 1, "missing ']'" },
		{ "[x]\n[\n", 2, "missing ']'" },
		{ "[x\\]\n", 1, "missing ']'" },
		{ "[*.json] x\n", 1, "text after ']'" },
		{ "[*.json]]\n", 1, "text after ']'" },
		{ "[*.json] # json\n", 1, "text after ']'" },
		{ "[]\n", 1, "empty glob" },
		{ "[  \t ]\n", 1, "empty glob" },
		{ "[/]\n", 1, "empty glob" },
		{ "[a[b]\n", 1, "unterminated '[' in glob" },
		{ "[x]\n\n[*.[ch]\n", 3, "unterminated '[' in glob" },
		{ "[[]\n", 1, "unterminated '[' in glob" },
		{ "[x]\r\nmode = log\r\nformat = bad\r\n", 3,
		  "unknown format" },
		{ "[x]\rmode = log\n", 1, "text after ']'" },
	};

	for (size_t i = 0; i < N_OF(cases); i++) {
		struct rules_error err = { 0, NULL };
		struct rules *r = (struct rules *)&err;
		int ret = rules_parse(cases[i].text, strlen(cases[i].text), &r,
				      &err);

		ck_assert_msg(ret == -EINVAL, "case %zu: returned %d", i, ret);
		ck_assert_msg(r == (struct rules *)&err,
			      "case %zu: *out written on error", i);
		ck_assert_msg(err.line == cases[i].line &&
				      !strcmp(err.reason, cases[i].reason),
			      "case %zu: line %u '%s', not line %u '%s'", i,
			      err.line, err.reason, cases[i].line,
			      cases[i].reason);
	}
}
END_TEST

START_TEST(rules_parse_refuses_nul_bytes_and_long_lines)
{
	static const char nul[] = "[x]\nmode = log\nformat\0= json\n";
	struct rules_error err = { 0, NULL };
	struct rules *r = NULL;
	size_t size = 4096 + 64;
	char *text = malloc(size);
	int n;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(rules_parse(nul, sizeof(nul) - 1, &r, &err), -EINVAL);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_str_eq(err.reason, "nul byte");

	/* 4096 bytes without the line end are fine, 4097 are not. */
	n = snprintf(text, size, "[x]\n# ");
	memset(text + n, 'c', 4096 - 2);
	strcpy(text + n + 4096 - 2, "\r\n[y]\n");
	ck_assert_int_eq(rules_parse(text, strlen(text), &r, &err), 0);
	rules_free(r);
	r = NULL;
	text[n + 4096 - 2] = 'c';
	ck_assert_int_eq(rules_parse(text, strlen(text), &r, &err), -EINVAL);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_str_eq(err.reason, "line too long");
	ck_assert_ptr_null(r);
	free(text);
}
END_TEST

START_TEST(rules_free_accepts_null)
{
	rules_free(NULL);
}
END_TEST

/* Globs */

static const struct {
	const char *glob;
	const char *path;
	bool match;
} globs[] = {
	/* No '/': the last component. */
	{ "*.json", "a.json", true },
	{ "*.json", "x/y/a.json", true },
	{ "*.json", "a.jsonx", false },
	{ "*.json", "a/b.jsonx", false },
	{ "*.json", "a.json/b", false },
	{ "*.json", ".json", true },
	{ "a.json", "d/a.json", true },
	{ "a.json", "d/xa.json", false },
	{ "*", "a/b/c", true },
	{ "*", "", true },
	{ "*.JSON", "a.json", false },
	/* With '/': the whole path. */
	{ "a/*.csv", "a/b.csv", true },
	{ "a/*.csv", "a/b/c.csv", false },
	{ "a/*.csv", "x/a/b.csv", false },
	{ "a/*.csv", "a/.csv", true },
	{ "/top.txt", "top.txt", true },
	{ "/top.txt", "d/top.txt", false },
	{ "/a/*", "a/b", true },
	/* '**' */
	{ "**/x.json", "x.json", true },
	{ "**/x.json", "a/b/x.json", true },
	{ "**/x.json", "a/bx.json", false },
	{ "logs/**", "logs/a", true },
	{ "logs/**", "logs/a/b/c.log", true },
	{ "logs/**", "logs", false },
	{ "logs/**", "xlogs/a", false },
	{ "logs/**", "a/logs/b", false },
	{ "a/**/b", "a/b", true },
	{ "a/**/b", "a/x/b", true },
	{ "a/**/b", "a/x/y/z/b", true },
	{ "a/**/b", "a/xb", false },
	{ "a/**/b", "ab", false },
	{ "**", "a/b/c", true },
	{ "**/*.json", "x.json", true },
	{ "**/*.json", "d/e/x.json", true },
	{ "**/*.json", "d/e/x.jsonl", false },
	{ "a**b", "ab", true },
	{ "a**b", "a/x/b", false },
	{ "d/a**b", "d/a/x/b", true },
	{ "x/**.json", "x/a/b.json", true },
	{ "x/***/y", "x/y", true },
	{ "d/**/*.log", "d/a.log", true },
	{ "d/**/*.log", "d/1/2/a.log", true },
	{ "d/**/*.log", "e/d/a.log", false },
	/* '?' */
	{ "a?c", "abc", true },
	{ "a?c", "ac", false },
	{ "a?c", "abbc", false },
	{ "d/a?c", "d/a/c", false },
	{ "??", "é", true },
	/* Classes */
	{ "[abc].txt", "b.txt", true },
	{ "[abc].txt", "d.txt", false },
	{ "[a-c]x", "bx", true },
	{ "[a-c]x", "dx", false },
	{ "[!a-c]x", "dx", true },
	{ "[!a-c]x", "ax", false },
	{ "[^a-c]x", "dx", true },
	{ "[^a-c]x", "bx", false },
	{ "[]]", "]", true },
	{ "[!]]", "]", false },
	{ "[!]]", "x", true },
	{ "[a-]", "-", true },
	{ "[\\]]", "]", true },
	{ "[0-9][0-9].csv", "07.csv", true },
	{ "[0-9][0-9].csv", "7.csv", false },
	{ "d[!x]e", "d/e", false },
	{ "d/[!x]e", "d/ae", true },
	{ "a[/]b", "a/b", false },
	{ "*.[ch]", "x.h", true },
	{ "*.[ch]", "x.o", false },
	/* An unterminated class is a literal '[' here. */
	{ "a[b", "a[b", true },
	/* Escapes */
	{ "\\*.json", "*.json", true },
	{ "\\*.json", "a.json", false },
	{ "a\\?", "a?", true },
	{ "a\\?", "ab", false },
	{ "\\[x]", "[x]", true },
	{ "\\[x]", "x", false },
	{ "\\a\\b", "ab", true },
	{ "a\\\\b", "a\\b", true },
	{ "a\\", "a\\", true },
	/* Case matters in globs. */
	{ "A.json", "a.json", false },
	/* Stars do not cross '/' in a whole-path glob. */
	{ "*/*", "a/b", true },
	{ "*/*", "a/b/c", false },
	{ "", "", true },
};

START_TEST(rules_glob_match_follows_the_documented_semantics)
{
	for (size_t i = 0; i < N_OF(globs); i++)
		ck_assert_msg(rules_glob_match(globs[i].glob, globs[i].path) ==
				      globs[i].match,
			      "glob '%s' path '%s': expected %s", globs[i].glob,
			      globs[i].path,
			      globs[i].match ? "a match" : "none");
}
END_TEST

START_TEST(rules_glob_match_stays_fast_on_pathological_globs)
{
	size_t n = 10000;
	char *path = malloc(n + 3);
	char *deep = malloc(2 * n + 3);

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(deep);
	memset(path, 'a', n);
	path[n] = '\0';
	ck_assert(!rules_glob_match("**a**a**a**a**a**a**a**a**b", path));
	ck_assert(!rules_glob_match("*a*a*a*a*a*a*a*a*a*a*a*b", path));
	ck_assert(rules_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a", path));
	path[n] = 'b';
	path[n + 1] = '\0';
	ck_assert(rules_glob_match("**a**a**a**a**a**a**a**a**b", path));
	ck_assert(rules_glob_match("*a*a*a*a*a*a*a*a*a*a*a*b", path));

	/* a/a/a/.../a: 10000 components. */
	for (size_t i = 0; i < n; i++) {
		deep[2 * i] = 'a';
		deep[2 * i + 1] = '/';
	}
	deep[2 * n - 1] = '\0';
	ck_assert(rules_glob_match("**/a/**/a/**/a/**/a", deep));
	ck_assert(!rules_glob_match("**/a/**/a/**/a/**/b", deep));
	ck_assert(!rules_glob_match("a/*/*/*/*", deep));
	ck_assert(!rules_glob_match("a/**/*a*a*", deep));
	ck_assert(rules_glob_match("a/**/[a]", deep));

	/* A glob longer than any a rules file holds: '*' then 4499 '?'. */
	n = 4500;
	memset(path, 'a', n);
	path[n] = '\0';
	memset(deep, '?', n);
	deep[0] = '*';
	deep[n] = '\0';
	ck_assert(rules_glob_match(deep, path));
	ck_assert(!rules_glob_match(deep, path + 2));
	deep[n - 1] = 'b';
	ck_assert(!rules_glob_match(deep, path));
	free(deep);
	free(path);
}
END_TEST

START_TEST(rules_lookup_matches_each_section_glob)
{
	struct rules *r = parse_ok("[a/*.csv]\nformat = tsv\n"
				   "[**/x.json]\nformat = text\n"
				   "[/top.bin]\nformat = csv\n");

	ck_assert_int_eq(lookup(r, "a/b.csv").format, FORMAT_TSV);
	ck_assert_int_eq(lookup(r, "a/b/c.csv").format, FORMAT_CSV);
	ck_assert_int_eq(lookup(r, "x.json").format, FORMAT_TEXT);
	ck_assert_int_eq(lookup(r, "p/q/x.json").format, FORMAT_TEXT);
	ck_assert_int_eq(lookup(r, "p/q/y.json").format, FORMAT_JSON);
	ck_assert_int_eq(lookup(r, "top.bin").format, FORMAT_CSV);
	ck_assert_int_eq(lookup(r, "d/top.bin").format, FORMAT_OPAQUE);
	rules_free(r);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc;

	tc = tcase_create("lookup");
	tcase_add_test(tc, rules_lookup_without_rules_gives_the_defaults);
	tcase_add_test(tc, rules_without_sections_give_the_defaults);
	tcase_add_test(tc, rules_defaults_follow_the_format_a_rule_sets);
	tcase_add_test(tc,
		       rules_later_sections_override_earlier_ones_key_by_key);
	tcase_add_test(tc, rules_the_last_matching_section_wins);
	tcase_add_test(tc, rules_parse_reads_every_value);
	tcase_add_test(tc, rules_lookup_matches_each_section_glob);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, rules_parse_accepts_crlf_blanks_and_comments);
	tcase_add_test(tc, rules_parse_takes_a_text_without_its_nul);
	tcase_add_test(tc, rules_section_globs_keep_escapes_and_classes);
	tcase_add_test(tc, rules_parse_reports_each_error_with_its_line);
	tcase_add_test(tc, rules_parse_refuses_nul_bytes_and_long_lines);
	tcase_add_test(tc, rules_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("glob");
	tcase_add_test(tc, rules_glob_match_follows_the_documented_semantics);
	tcase_add_test(tc, rules_glob_match_stays_fast_on_pathological_globs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(rules_suite);
}
