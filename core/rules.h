/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules: what hydrafs does with each file, by glob (the rules file).
 *
 * The rules file is INI: each section's name is a glob, its keys set the
 * policy of the files it matches; a later matching section overrides an
 * earlier one key by key (so put general globs first).
 *
 *     # comments start with # or ;
 *     [*.json]
 *     format = json           opaque text json jsonl csv tsv
 *     invalid = reject        reject accept quarantine-records
 *     mode = file             file log
 *     recover = salvage       salvage last-good off
 *     versions = on           on off (off: never keep versions; on: keep
 *                             them even for scratch names)
 *
 * Globs match the path relative to the mount's root, without a leading
 * '/': '*' and '?' do not cross '/', '**' does, '[...]' is a class; a glob
 * without '/' matches the last component only (as in .gitignore).
 *
 * Defaults, when no section sets a key: the format by extension
 * (format_kind_for_name()); invalid = reject for json, jsonl, csv and tsv,
 * accept for the rest; mode = log for .log and .jsonl (and .ndjson), file
 * for the rest; recover = salvage for jsonl, csv, tsv and text, last-good
 * for json and opaque; versions unset (scratch names are not versioned).
 *
 * A parsed rule set is immutable and may be shared by threads.
 */
#ifndef HYDRAFS_RULES_H
#define HYDRAFS_RULES_H

#include <stddef.h>

#include "format.h"

enum rule_invalid {
	RULE_INVALID_REJECT,
	RULE_INVALID_ACCEPT,
	RULE_INVALID_QUARANTINE,	/* records: keep the valid ones */
};

enum rule_mode {
	RULE_MODE_FILE,
	RULE_MODE_LOG,
};

enum rule_recover {
	RULE_RECOVER_SALVAGE,
	RULE_RECOVER_LAST_GOOD,
	RULE_RECOVER_OFF,
};

enum rule_versions {
	RULE_VERSIONS_DEFAULT,	/* scratch names not versioned */
	RULE_VERSIONS_ON,
	RULE_VERSIONS_OFF,
};

/* The policy of one file. */
struct rule_policy {
	enum format_kind format;
	enum rule_invalid invalid;
	enum rule_mode mode;
	enum rule_recover recover;
	enum rule_versions versions;
};

/* Where and why a rules file is bad. */
struct rules_error {
	unsigned int line;	/* 1-based */
	const char *reason;	/* static, lower case */
};

struct rules;

/*
 * Parses the rules text @text (@len bytes, need not be NUL-terminated).
 * 0, -EINVAL with *@err filled, or -ENOMEM.  Caller frees with
 * rules_free().
 */
int rules_parse(const char *text, size_t len, struct rules **out,
		struct rules_error *err);
void rules_free(struct rules *r);

/*
 * The policy of the file at @relpath (relative to the root, no leading
 * '/'); @r may be NULL (defaults only).
 */
void rules_lookup(const struct rules *r, const char *relpath,
		  struct rule_policy *out);

/* Whether @relpath matches @glob, as above. */
bool rules_glob_match(const char *glob, const char *relpath);

#endif
