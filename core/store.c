// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "store.h"
#include "store_internal.h"

#include "bgcheck.h"
#include "format.h"
#include "journal.h"
#include "record.h"
#include "recovered.h"
#include "rules.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define SHADOW_XATTR "user.hydrafs.path"


/*
 * Syncs the dir behind @dirfd.  Commits that happen together share one
 * sync: a caller that arrives while a sync of the same dir runs waits for
 * the next one, which covers every rename made before it started, and
 * callers arriving meanwhile join it.
 */
static int sync_dir(struct store *s, int dirfd)
{
	struct stat st;
	unsigned long want;
	int ret;

	ret = io_fstatat_empty(s->io, dirfd, &st);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&s->sync_lock);
	/* A sync that starts after now covers our rename. */
	want = s->sync_started + 1;
	for (;;) {
		if (s->sync_finished >= want && s->sync_dev == st.st_dev &&
		    s->sync_ino == st.st_ino) {
			ret = s->sync_ret;
			break;
		}
		if (!s->syncing) {
			s->syncing = true;
			s->sync_dev = st.st_dev;
			s->sync_ino = st.st_ino;
			want = ++s->sync_started;
			pthread_mutex_unlock(&s->sync_lock);
			ret = io_fsync_dir(s->io, dirfd);
			pthread_mutex_lock(&s->sync_lock);
			s->sync_ret = ret;
			s->sync_finished = want;
			s->syncing = false;
			pthread_cond_broadcast(&s->sync_done);
			break;
		}
		pthread_cond_wait(&s->sync_done, &s->sync_lock);
	}
	pthread_mutex_unlock(&s->sync_lock);
	return ret;
}

struct stage {
	int fd;		/* the shadow, O_RDWR */
	char name[NAME_MAX + 1];	/* its name in staging/: "<pid>-<seq>-<file name>" */
	struct rule_policy policy;	/* of the file, when staging began */
	/*
	 * Validation and hashing while the shadow is written in order: its
	 * bytes [0, @fed) went through @check (NULL: out of memory, the
	 * commit makes one).  Writes elsewhere are read at the commit.
	 */
	struct format_check *check;
	uint64_t fed;
	/*
	 * Past BG_MIN bytes fed, a thread of its own takes the check over
	 * (bgcheck.h): a big file's writes do not wait for its validator.
	 */
	struct bgcheck *bg;
	bool from_view;	/* made from a damaged file's recovered view */
};

#define BG_MIN (4 << 20)

static int mkdir_open(struct io *io, int dirfd, const char *name, mode_t mode,
		      int *out)
{
	struct stat st;
	int ret = io_mkdirat(io, dirfd, name, mode);

	if (ret < 0 && ret != -EEXIST)
		return ret;
	ret = io_lookup(io, dirfd, name, out, &st);
	if (ret == 0 && !S_ISDIR(st.st_mode)) {
		close(*out);
		return -ENOTDIR;
	}
	return ret;
}

static int store_recover(struct store *s);

int store_open(struct io *io, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->io = io;
	s->statefd = s->stagingfd = s->versionsfd = -1;
	pthread_mutex_init(&s->sync_lock, NULL);
	pthread_cond_init(&s->sync_done, NULL);
	ret = mkdir_open(io, io_rootfd(io), STATE_DIR, 0711, &s->statefd);
	if (ret == 0)
		ret = mkdir_open(io, s->statefd, STATE_STAGING, 0700,
				 &s->stagingfd);
	if (ret == 0)
		ret = mkdir_open(io, s->statefd, STATE_VERSIONS, 0755,
				 &s->versionsfd);
	if (ret == 0)
		ret = journal_open(io, s->statefd, STATE_JOURNAL, &s->journal);
	if (ret == 0)
		ret = store_recover(s);
	if (ret < 0) {
		store_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	journal_close(s->journal);
	if (s->versionsfd >= 0)
		close(s->versionsfd);
	if (s->stagingfd >= 0)
		close(s->stagingfd);
	if (s->statefd >= 0)
		close(s->statefd);
	pthread_cond_destroy(&s->sync_done);
	pthread_mutex_destroy(&s->sync_lock);
	free(s);
}

int store_versions_fd(const struct store *s)
{
	return s->versionsfd;
}

bool store_is_scratch(const char *name)
{
	static const char *const globs[] = {
		".*.sw[a-p]", "*.swp", "*.swo", "*.swx", "4913", "*~", ".#*",
		"*.tmp", "#*#",
	};

	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++)
		if (fnmatch(globs[i], name, FNM_PERIOD) == 0 ||
		    (name[0] == '.' && fnmatch(globs[i], name, 0) == 0))
			return true;
	return false;
}

/* A dir mode for the dir that holds a file's versions: x where r is. */
static mode_t dir_mode_of(mode_t m)
{
	m &= 0777;
	return m | ((m & 0444) >> 2);
}

/*
 * Opens (making) the dir versions/@relpath/, each level with the owner and
 * mode of what it mirrors (the last level: of the file @st); *@out is an
 * O_PATH fd.
 */
static int mirror_dir(struct store *s, int root, const char *relpath,
		      const struct stat *st, int *out)
{
	char buf[PATH_MAX], part[PATH_MAX];
	char *comp, *save = NULL, *next;
	int dfd = root, nfd, ret = 0;

	if (strlen(relpath) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, relpath);
	part[0] = '\0';
	for (comp = strtok_r(buf, "/", &save); comp; comp = next) {
		struct stat mst, got;

		next = strtok_r(NULL, "/", &save);
		if (part[0])
			strcat(part, "/");
		strcat(part, comp);
		if (next) {
			ret = io_lstat(s->io, part, &mst);
			if (ret < 0)
				break;
		} else {
			mst = *st;
			mst.st_mode = S_IFDIR | dir_mode_of(st->st_mode);
		}
		ret = io_mkdirat(s->io, dfd, comp, mst.st_mode & 07777);
		if (ret < 0 && ret != -EEXIST)
			break;
		bool made = ret == 0;

		ret = io_lookup(s->io, dfd, comp, &nfd, &got);
		if (ret == 0 && made)
			ret = io_chown_fd(s->io, nfd, mst.st_uid, mst.st_gid);
		/* After the chown, which may clear set-ID bits; not the umask's. */
		if (ret == 0 && made)
			ret = io_chmod_fd(s->io, nfd, mst.st_mode & 07777);
		if (ret < 0)
			break;
		if (dfd != root)
			close(dfd);
		dfd = nfd;
	}
	if (ret < 0) {
		if (dfd != root)
			close(dfd);
		return ret;
	}
	*out = dfd == root ? -1 : dfd;
	return *out < 0 ? -EINVAL : 0;
}

int store_version_dir(struct store *s, const char *relpath,
		      const struct stat *st, int *out)
{
	return mirror_dir(s, s->versionsfd, relpath, st, out);
}

int store_rejected_dir(struct store *s, const char *relpath,
		       const struct stat *st, int *out)
{
	int rfd, ret = mkdir_open(s->io, s->versionsfd, REJECTED_NAME, 0755,
				  &rfd);

	if (ret < 0)
		return ret;
	ret = mirror_dir(s, rfd, relpath, st, out);
	close(rfd);
	return ret;
}

int store_orphans_dir(struct store *s, int *out)
{
	return mkdir_open(s->io, s->versionsfd, ORPHANS_NAME, 0700, out);
}

int store_create_version(struct store *s, int dirfd, const char *file,
			 char *name, size_t size)
{
	struct timespec now;
	int ret = -EEXIST;

	clock_gettime(CLOCK_REALTIME, &now);
	for (unsigned int seq = 0; ret == -EEXIST && seq < 1000; seq++) {
		ret = version_name(name, size, &now, file, seq);
		if (ret < 0)
			break;
		ret = io_openat(s->io, dirfd, name,
				O_RDWR | O_CREAT | O_EXCL, 0600);
	}
	return ret;
}

void store_journal_note(struct store *s, enum journal_event ev,
			 const char *path, int64_t size, const char *sum,
			 const char *prev, const char *detail,
			 const struct who *who)
{
	struct journal_record r = {
		.event = ev, .path = path, .size = size, .checksum = sum,
		.prev = prev, .detail = detail,
		.uid = who ? who->uid : 0, .pid = who ? who->pid : 0,
		.comm = who ? who->comm : NULL,
	};

	/* A journal that cannot be written must not block the data path. */
	journal_append(s->journal, &r);
}

/* Links the object behind @fd into versions/@relpath/ as a new version. */
/* ... *@vfd_out (may be NULL) gets the version dir's fd, caller closes. */
static int keep_version(struct store *s, int fd, const char *relpath,
			const struct stat *st, char *name, size_t size,
			bool durable, int *vfd_out)
{
	const char *base = strrchr(relpath, '/');
	struct timespec now;
	int vfd, ret;

	base = base ? base + 1 : relpath;
	ret = store_version_dir(s, relpath, st, &vfd);
	if (ret < 0)
		return ret;
	clock_gettime(CLOCK_REALTIME, &now);
	for (unsigned int seq = 0; seq < 1000; seq++) {
		ret = version_name(name, size, &now, base, seq);
		if (ret < 0)
			break;
		ret = io_link_fd(s->io, fd, vfd, name);
		if (ret != -EEXIST)
			break;
	}
	/* The old content must not hang on an unsynced link once replaced. */
	if (ret == 0 && durable) {
		ret = sync_dir(s, vfd);
		if (ret < 0)
			io_unlinkat(s->io, vfd, name, false);
	}
	if (ret < 0)
		name[0] = '\0';
	if (ret == 0 && vfd_out)
		*vfd_out = vfd;
	else
		close(vfd);
	return ret;
}

int store_is_protected(struct store *s, int fd, const struct stat *st,
		       char *relpath, size_t size)
{
	const char *base;
	int ret;

	if (!S_ISREG(st->st_mode) || st->st_nlink > 2)
		return 0;
	ret = io_relpath(s->io, fd, relpath, size);
	if (ret == -ENOENT)
		return 0; /* deleted: nothing to protect */
	if (ret < 0)
		return ret;
	/* Two links: protected when the other is a version a crash left. */
	if (st->st_nlink == 2 && !store_is_version_link(s, relpath, st))
		return 0;
	base = strrchr(relpath, '/');
	return !store_is_scratch(base ? base + 1 : relpath);
}

int store_keep(struct store *s, int fd, const struct who *who)
{
	char relpath[PATH_MAX], name[VERSION_NAME_MAX];
	struct stat st;
	int ret;

	ret = io_fstatat_empty(s->io, fd, &st);
	if (ret < 0 || !S_ISREG(st.st_mode))
		return ret;
	ret = io_relpath(s->io, fd, relpath, sizeof(relpath));
	if (ret < 0)
		return ret;
	ret = keep_version(s, fd, relpath, &st, name, sizeof(name), false,
			   NULL);
	if (ret == 0)
		store_journal_note(s, JOURNAL_VERSION, relpath, st.st_size, NULL,
			     name, NULL, who);
	return ret;
}

bool store_is_version_link(struct store *s, const char *relpath,
			   const struct stat *st)
{
	struct io_dir *d;
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	ino_t ino;
	bool found = false;
	int dfd;

	/* .hydrafs/versions/<relpath>/ */
	{
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s/%s", STATE_DIR,
			     STATE_VERSIONS, relpath) >= (int)sizeof(path))
			return false;
		dfd = io_open(s->io, path, O_PATH | O_DIRECTORY, 0);
	}
	if (dfd < 0)
		return false;
	if (io_opendir_fd(s->io, dfd, &d) == 0) {
		while (!found && io_readdir(s->io, d, pos, &name, &type, &next,
					    &ino) == 1) {
			pos = next;
			found = ino == st->st_ino;
		}
		io_closedir(d);
	}
	close(dfd);
	return found;
}

int store_keep_copy(struct store *s, int fd, const struct who *who)
{
	char relpath[PATH_MAX], name[VERSION_NAME_MAX];
	const char *base;
	struct stat st;
	int vfd, src, dst = -1, ret;

	ret = io_fstatat_empty(s->io, fd, &st);
	if (ret < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return ret;
	ret = io_relpath(s->io, fd, relpath, sizeof(relpath));
	if (ret < 0)
		return ret;
	base = strrchr(relpath, '/');
	base = base ? base + 1 : relpath;
	ret = store_version_dir(s, relpath, &st, &vfd);
	if (ret < 0)
		return ret;
	dst = ret = store_create_version(s, vfd, base, name, sizeof(name));
	if (dst >= 0) {
		src = io_reopen(s->io, fd, O_RDONLY);
		ret = src < 0 ? src : io_clone(s->io, src, dst);
		if (src >= 0)
			io_close(s->io, src);
		if (ret == 0)
			ret = io_fchown(s->io, dst, st.st_uid, st.st_gid);
		if (ret == 0)
			ret = io_fchmod(s->io, dst, st.st_mode & 07777);
		io_close(s->io, dst);
		if (ret < 0)
			io_unlinkat(s->io, vfd, name, false);
	}
	close(vfd);
	if (ret == 0)
		store_journal_note(s, JOURNAL_VERSION, relpath, st.st_size, NULL,
			     name, "copy of a file with several links", who);
	return ret < 0 ? ret : 0;
}

int stage_begin(struct store *s, int fd, bool truncate, struct stage **out)
{
	char relpath[PATH_MAX];
	struct stage *st = calloc(1, sizeof(*st));
	int src, ret;

	relpath[0] = '\0';

	if (!st)
		return -ENOMEM;
	{
		const char *base = "";

		if (io_relpath(s->io, fd, relpath, sizeof(relpath)) == 0) {
			base = strrchr(relpath, '/');
			base = base ? base + 1 : relpath;
		}
		/* The file's name goes in the shadow's: an orphan keeps it. */
		snprintf(st->name, sizeof(st->name), "%ld-%lu-%.100s",
			 (long)getpid(), atomic_fetch_add(&s->seq, 1), base);
	}
	st->fd = io_openat(s->io, s->stagingfd, st->name,
			   O_RDWR | O_CREAT | O_EXCL, 0600);
	if (st->fd < 0) {
		ret = st->fd;
		free(st);
		return ret;
	}
	/* The whole path, for the journal; best effort (xattrs may be missing). */
	if (relpath[0])
		io_fsetxattr(s->io, st->fd, SHADOW_XATTR, relpath,
			     strlen(relpath), 0);
	rules_lookup(s->rules, relpath, &st->policy);
	/* Without memory now, the commit validates in one pass. */
	if (format_check_new(st->policy.format, &st->check) < 0)
		st->check = NULL;
	ret = 0;
	if (!truncate) {
		struct stat vst;

		/*
		 * A damaged file is written from its recovered view, so that the
		 * damage is not carried on (the damaged bytes stay as the version
		 * the commit keeps).  Without a view, from the file as it is.
		 */
		st->from_view = store_recovered_view(s, fd, &src, &vst) == 1;
		if (!st->from_view)
			src = io_reopen(s->io, fd, O_RDONLY);
		ret = src < 0 ? src : io_clone(s->io, src, st->fd);
		if (src >= 0)
			io_close(s->io, src);
	}
	if (ret < 0) {
		io_close(s->io, st->fd);
		io_unlinkat(s->io, s->stagingfd, st->name, false);
		format_check_free(st->check);
		free(st);
		return ret;
	}
	*out = st;
	return 0;
}

int stage_fd(const struct stage *st)
{
	return st->fd;
}

void store_set_rules(struct store *s, const struct rules *rules)
{
	s->rules = rules;
}

enum format_kind stage_format(const struct stage *st)
{
	return st->policy.format;
}

/* Takes the check back from the thread, if it has it. */
static void bg_stop(struct stage *st)
{
	if (st->bg) {
		bgcheck_stop(st->bg, &st->check, &st->fed);
		st->bg = NULL;
	}
}

/* The shadow's content from @off on changed (not by an in-order write). */
static void changed_from(struct store *s, struct stage *st, uint64_t off)
{
	struct stat sh;

	if (st->bg) {
		if (io_fstat(s->io, st->fd, &sh) == 0)
			bgcheck_changed(st->bg, off, (uint64_t)sh.st_size);
		else
			bg_stop(st);
		return;
	}
	if (off < st->fed && st->check) {
		format_check_reset(st->check);
		st->fed = 0;
	}
}

ssize_t stage_pwrite(struct store *s, struct stage *st, const void *buf,
		     size_t len, off_t off)
{
	ssize_t n = io_pwrite(s->io, st->fd, buf, len, off);

	if (n <= 0)
		return n;
	if (st->bg) {
		bgcheck_wrote(st->bg, (uint64_t)off, (uint64_t)off + (uint64_t)n);
		return n;
	}
	if (st->check && (uint64_t)off == st->fed) {
		/* Invalid content is still hashed; the verdict waits for the commit. */
		if (format_check_feed(st->check, buf, (size_t)n) == -ENOMEM) {
			format_check_free(st->check);
			st->check = NULL;
		}
		st->fed += (uint64_t)n;
		if (st->check && st->fed >= BG_MIN &&
		    bgcheck_start(s->io, st->fd, st->check, st->fed, st->fed,
				  &st->bg) == 0)
			st->check = NULL;
	} else {
		changed_from(s, st, (uint64_t)off);
	}
	return n;
}

int stage_truncate(struct store *s, struct stage *st, off_t size)
{
	int ret = io_ftruncate(s->io, st->fd, size);

	if (ret == 0)
		changed_from(s, st, (uint64_t)size);
	return ret;
}

int stage_fallocate(struct store *s, struct stage *st, int mode, off_t off,
		    off_t len)
{
	int ret = io_fallocate(s->io, st->fd, mode, off, len);

	if (ret == 0)
		changed_from(s, st, (uint64_t)off);
	return ret;
}

/*
 * Whether a commit skips reading the whole file to hash it and compare it
 * with the current content: a file mostly made of holes (reading terabytes
 * of holes would take hours), or one larger than HASH_MAX, whose commit
 * after a small change must cost what the reflink costs, not a read of the
 * whole file.  (Hashing while the shadow is written comes with validation.)
 */
#define HASH_MAX (64LL << 20)

static bool skips_hash(const struct stat *st)
{
	return st->st_size > HASH_MAX ||
	       st->st_size > (off_t)st->st_blocks * 512 * 2 + (1LL << 30);
}

/* Feeds bytes [@from, @to) of @fd to @c. */
static int feed_range(struct store *s, int fd, struct format_check *c,
		      uint64_t from, uint64_t to)
{
	char *buf;
	int ret = 0;

	if (from >= to)
		return 0;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	while (from < to) {
		size_t want = to - from < CHUNK ? (size_t)(to - from) : CHUNK;
		ssize_t n = io_pread(s->io, fd, buf, want, (off_t)from);

		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0)
			break;	/* shorter than its stat said: fed as it is */
		ret = format_check_feed(c, buf, (size_t)n);
		if (ret == -ENOMEM)
			break;
		ret = 0;
		from += (uint64_t)n;
	}
	free(buf);
	return ret;
}

/* Whether a format checks nothing but the bytes' checksum. */
static bool checks_nothing(enum format_kind kind)
{
	return kind == FORMAT_OPAQUE || kind == FORMAT_TEXT;
}

/*
 * Validates and hashes the shadow, finishing what its in-order writes
 * began: only the bytes past them are read.  Fills @rec's format and sum
 * (none for a large file of a format that checks nothing, written in
 * place: see skips_hash()); *@valid and, when false, *@err.
 */
static int check_content(struct store *s, struct stage *st,
			 const struct stat *sh, struct record *rec,
			 bool *valid, struct format_error *err)
{
	uint64_t size = (uint64_t)sh->st_size;
	struct format_sum sum;
	int ret;

	memset(rec, 0, sizeof(*rec));
	rec->format = st->policy.format;
	*valid = true;
	bg_stop(st);
	if (!st->check) {
		ret = format_check_new(st->policy.format, &st->check);
		if (ret < 0)
			return ret;
		st->fed = 0;
	}
	if (st->fed > size) {
		format_check_reset(st->check);
		st->fed = 0;
	}
	if (checks_nothing(rec->format) && size - st->fed > HASH_MAX)
		return 0;
	ret = feed_range(s, st->fd, st->check, st->fed, size);
	if (ret == 0)
		ret = format_check_finish(st->check, &sum, err);
	/* Whatever comes next (a retry, more writes) starts over. */
	format_check_reset(st->check);
	st->fed = 0;
	if (ret < 0 && ret != -EINVAL)
		return ret;
	rec->has_sum = true;
	rec->sum = sum;
	*valid = ret == 0;
	return 0;
}

/* The record of the file behind @fd, when it has a valid one. */
bool store_record_of(struct store *s, int fd, struct record *r)
{
	char text[RECORD_TEXT_MAX];
	ssize_t n = io_getxattr_fd(s->io, fd, RECORD_XATTR, text,
				   sizeof(text));

	return n > 0 && record_parse(text, (size_t)n, r) == 0;
}

/*
 * Whether the new content (@sh, @rec) equals the file's (@cur, behind
 * @fd): by the file's record when it still describes it, else by hashing
 * the file (not past HASH_MAX).
 */
static int is_same(struct store *s, int fd, const struct stat *cur,
		   const struct stat *sh, const struct record *rec,
		   bool *same)
{
	struct format_check *c;
	struct format_error err;
	struct format_sum sum;
	struct record old;
	int old_fd, ret;

	*same = false;
	if (!rec->has_sum || cur->st_size != sh->st_size)
		return 0;
	if (store_record_of(s, fd, &old) && record_matches(&old, cur) &&
	    old.has_sum) {
		*same = old.sum.high == rec->sum.high &&
			old.sum.low == rec->sum.low;
		return 0;
	}
	if (skips_hash(cur))
		return 0;
	ret = format_check_new(FORMAT_OPAQUE, &c);
	if (ret < 0)
		return ret;
	old_fd = io_reopen(s->io, fd, O_RDONLY);
	ret = old_fd < 0 ? old_fd
			 : feed_range(s, old_fd, c, 0, (uint64_t)cur->st_size);
	if (ret == 0 && format_check_finish(c, &sum, &err) == 0)
		*same = sum.high == rec->sum.high && sum.low == rec->sum.low;
	if (old_fd >= 0)
		io_close(s->io, old_fd);
	format_check_free(c);
	return ret;
}

/* The new content's record, on the shadow: it moves with it at the rename. */
static void put_record(struct store *s, struct stage *st,
		       const struct stat *sh, struct record *rec, bool valid)
{
	char text[RECORD_TEXT_MAX];
	size_t n;

	rec->state = valid ? RECORD_OK : RECORD_INVALID;
	rec->size = (uint64_t)sh->st_size;
	rec->mtime_sec = sh->st_mtim.tv_sec;
	rec->mtime_nsec = (uint32_t)sh->st_mtim.tv_nsec;
	rec->ino = sh->st_ino;
	n = record_format(rec, text);
	/* Best effort: without it the file is checked again when opened. */
	io_fsetxattr(s->io, st->fd, RECORD_XATTR, text, n, 0);
}

/* The file's xattrs, onto the shadow; best effort outside user.*. */
static int copy_xattrs(struct io *io, int fd, int shadow)
{
	char *list = NULL, *val = NULL;
	ssize_t n = io_listxattr_fd(io, fd, NULL, 0);
	int ret = 0;

	if (n <= 0)
		return n == 0 || n == -ENOTSUP ? 0 : (int)n;
	list = malloc((size_t)n);
	val = malloc(XATTR_SIZE_MAX);
	if (!list || !val) {
		ret = -ENOMEM;
		goto out_free;
	}
	n = io_listxattr_fd(io, fd, list, (size_t)n);
	if (n < 0) {
		ret = (int)n; /* changed meanwhile: the commit is retried */
		goto out_free;
	}
	for (char *name = list; name < list + n; name += strlen(name) + 1) {
		ssize_t v;

		/* Ours describe the old content, not the new. */
		if (!strncmp(name, "user.hydrafs.", 13))
			continue;
		v = io_getxattr_fd(io, fd, name, val, XATTR_SIZE_MAX);

		ret = v < 0 ? (int)v
			    : io_fsetxattr(io, shadow, name, val, (size_t)v, 0);
		if (ret < 0 && strncmp(name, "user.", 5))
			ret = 0;
		if (ret < 0)
			break;
	}
out_free:
	free(val);
	free(list);
	return ret;
}

/* Splits @relpath into an O_PATH fd of its dir (caller closes) and a name. */
static int open_parent(struct io *io, const char *relpath, int *dirfd,
		       const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(relpath, '/');

	*base = slash ? slash + 1 : relpath;
	if (!slash) {
		*dirfd = dup(io_rootfd(io));
		return *dirfd < 0 ? -errno : 0;
	}
	memcpy(dir, relpath, (size_t)(slash - relpath));
	dir[slash - relpath] = '\0';
	*dirfd = io_open(io, dir, O_PATH | O_DIRECTORY, 0);
	return *dirfd < 0 ? *dirfd : 0;
}

static void stage_destroy(struct store *s, struct stage *st)
{
	bg_stop(st);
	io_close(s->io, st->fd);
	format_check_free(st->check);
	free(st);
}

/*
 * Refuses the shadow's content: it goes to versions/.rejected/@relpath/
 * (with the file's owner and mode), the file is flagged (REJECTED_XATTR)
 * and the journal says where and why.  Returns 1 (the stage is consumed)
 * or -errno (nothing changed).
 */
static int reject(struct store *s, struct stage *st, int fd,
		  const char *relpath, const struct stat *cur,
		  const struct stat *sh, const char *sum,
		  const struct format_error *err, const struct who *who)
{
	char vname[VERSION_NAME_MAX], where[PATH_MAX + VERSION_NAME_MAX + 16];
	char detail[160];
	const char *base = strrchr(relpath, '/');
	struct timespec now;
	int dfd, ret;

	base = base ? base + 1 : relpath;
	ret = store_rejected_dir(s, relpath, cur, &dfd);
	if (ret < 0)
		return ret;
	ret = io_fremovexattr(s->io, st->fd, SHADOW_XATTR);
	if (ret == -ENODATA || ret == -ENOTSUP)
		ret = 0;
	if (ret == 0)
		ret = io_fchown(s->io, st->fd, cur->st_uid, cur->st_gid);
	if (ret == 0)
		ret = io_fchmod(s->io, st->fd, cur->st_mode & 07777);
	clock_gettime(CLOCK_REALTIME, &now);
	for (unsigned int seq = 0; ret == 0 && seq < 1000; seq++) {
		ret = version_name(vname, sizeof(vname), &now, base, seq);
		if (ret < 0)
			break;
		ret = io_renameat(s->io, s->stagingfd, st->name, dfd, vname,
				  RENAME_NOREPLACE);
		if (ret != -EEXIST)
			break;
	}
	close(dfd);
	if (ret < 0)
		return ret;
	snprintf(where, sizeof(where), "%s/%s/%s", REJECTED_NAME, relpath,
		 vname);
	snprintf(detail, sizeof(detail),
		 "invalid %s at line %" PRIu64 ", byte %" PRIu64 ": %s",
		 format_kind_name(st->policy.format), err->line, err->offset,
		 err->reason ? err->reason : "invalid");
	{
		char flag[sizeof(where) + sizeof(detail) + 32];
		int n = snprintf(flag, sizeof(flag), "%s; kept as %s/%s", detail,
				 BACKUPS_NAME, where);

		/* Best effort: the journal has it too. */
		io_setxattr_fd(s->io, fd, REJECTED_XATTR, flag,
			       n < (int)sizeof(flag) ? (size_t)n : sizeof(flag) - 1,
			       0);
	}
	journal_append(s->journal, &(struct journal_record){
		.event = JOURNAL_REJECT, .path = relpath, .size = sh->st_size,
		.checksum = sum[0] ? sum : NULL, .prev = where,
		.detail = "refused, kept under " BACKUPS_NAME "/" REJECTED_NAME,
		.format = format_kind_name(st->policy.format),
		.line = err->line, .offset = err->offset,
		.reason = err->reason ? err->reason : "invalid",
		.uid = who ? who->uid : 0, .pid = who ? who->pid : 0,
		.comm = who ? who->comm : NULL,
	});
	stage_destroy(s, st);
	return 1;
}

int stage_commit(struct store *s, struct stage *st, int fd,
		 const struct who *who, bool durable, int *new_fd,
		 struct stat *new_st)
{
	char relpath[PATH_MAX], vname[VERSION_NAME_MAX] = "", sum[33] = "";
	char detail[160] = "";
	struct format_error err = { 0 };
	struct record rec;
	const char *base;
	struct stat cur, sh, now;
	bool same = false, valid = true;
	int dirfd, nfd, vfd, ret;

	ret = io_fstatat_empty(s->io, fd, &cur);
	if (ret == 0)
		ret = io_fstat(s->io, st->fd, &sh);
	if (ret == 0)
		ret = io_relpath(s->io, fd, relpath, sizeof(relpath));
	if (ret == 0)
		ret = check_content(s, st, &sh, &rec, &valid, &err);
	if (ret < 0)
		return ret;
	if (rec.has_sum)
		format_sum_hex(&rec.sum, sum);
	/* An empty file is always accepted. */
	if (sh.st_size == 0)
		valid = true;
	if (!valid && st->policy.invalid != RULE_INVALID_ACCEPT)
		return reject(s, st, fd, relpath, &cur, &sh, sum, &err, who);
	if (!valid)
		snprintf(detail, sizeof(detail),
			 "invalid %s at line %" PRIu64 ", byte %" PRIu64
			 ": %s; accepted by a rule",
			 format_kind_name(st->policy.format), err.line,
			 err.offset, err.reason ? err.reason : "invalid");
	ret = is_same(s, fd, &cur, &sh, &rec, &same);
	if (ret < 0)
		return ret;
	if (same) {
		/* Identical content: nothing to commit, no version. */
		io_unlinkat(s->io, s->stagingfd, st->name, false);
		stage_destroy(s, st);
		*new_fd = -1;
		return 0;
	}
	ret = open_parent(s->io, relpath, &dirfd, &base);
	if (ret < 0)
		return ret;
	/* The name must still be this file: never replace something else. */
	ret = io_lookup(s->io, dirfd, base, &nfd, &now);
	if (ret == 0) {
		close(nfd);
		if (now.st_dev != cur.st_dev || now.st_ino != cur.st_ino)
			ret = -ESTALE;
	}
	/* Everything that can fail on the shadow comes before the version. */
	if (ret == 0) {
		ret = io_fremovexattr(s->io, st->fd, SHADOW_XATTR);
		if (ret == -ENODATA || ret == -ENOTSUP)
			ret = 0;
	}
	if (ret == 0)
		ret = io_fchown(s->io, st->fd, cur.st_uid, cur.st_gid);
	if (ret == 0)
		ret = io_fchmod(s->io, st->fd, cur.st_mode & 07777);
	if (ret == 0)
		ret = copy_xattrs(s->io, fd, st->fd);
	if (ret == 0)
		put_record(s, st, &sh, &rec, valid);
	/*
	 * With @durable the data must be on disk before the rename makes it
	 * the file's: a rename over a file whose data is not yet written is
	 * the classic way to find an empty file after a power cut.
	 */
	if (ret == 0 && durable)
		ret = io_fsync(s->io, st->fd, true);
	/* The new object's handle, taken now: after the rename it must not fail. */
	nfd = ret == 0 ? io_reopen(s->io, st->fd, O_PATH) : -1;
	if (ret == 0 && nfd < 0)
		ret = nfd;
	if (ret == 0)
		ret = io_fstat(s->io, st->fd, new_st);
	vfd = -1;
	if (ret == 0 && cur.st_size > 0)
		ret = keep_version(s, fd, relpath, &cur, vname, sizeof(vname),
				   durable, &vfd);
	if (ret == 0)
		ret = io_renameat(s->io, s->stagingfd, st->name, dirfd, base, 0);
	if (ret < 0) {
		/* Not committed: the version link just made would be a duplicate. */
		if (vfd >= 0 && vname[0])
			io_unlinkat(s->io, vfd, vname, false);
		if (vfd >= 0)
			close(vfd);
		if (nfd >= 0)
			close(nfd);
		close(dirfd);
		return ret;
	}
	if (vfd >= 0)
		close(vfd);
	/* Past the rename the commit has happened; what follows only reports. */
	if (durable)
		sync_dir(s, dirfd);
	/* The damaged content is a version now: its cached views can go. */
	if (st->from_view)
		store_recovered_forget(s, &cur);
	close(dirfd);
	store_journal_note(s, JOURNAL_COMMIT, relpath, sh.st_size,
		     sum[0] ? sum : NULL, vname[0] ? vname : NULL,
		     detail[0] ? detail
			       : sum[0] ? NULL : "large, written in place, not hashed",
		     who);
	stage_destroy(s, st);
	*new_fd = nfd;
	return 0;
}

/* Moves staging/@name to versions/.orphans/, named by the file it was for. */
static int orphan(struct store *s, const char *name, int64_t size)
{
	char path[PATH_MAX] = "", oname[NAME_MAX + 1], vname[VERSION_NAME_MAX];
	struct timespec now;
	struct stat st;
	ssize_t n;
	int ofd, fd, ret;

	ret = mkdir_open(s->io, s->versionsfd, ORPHANS_NAME, 0700, &ofd);
	if (ret < 0)
		return ret;
	fd = io_openat(s->io, s->stagingfd, name, O_RDONLY, 0);
	if (fd >= 0) {
		n = io_getxattr_fd(s->io, fd, SHADOW_XATTR, path,
				   sizeof(path) - 1);
		path[n > 0 ? n : 0] = '\0';
		if (size < 0 && fstat(fd, &st) == 0)
			size = st.st_size;
		io_close(s->io, fd);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	version_name(vname, sizeof(vname), &now, "", 0);
	/* "<time>-<file name>-<shadow>": sortable, and says whose it was. */
	/*
	 * "<time>-<shadow name>": the shadow's name ends in the file's name
	 * ("<pid>-<seq>-<file name>"), so the orphan says whose it was.
	 */
	snprintf(oname, sizeof(oname), "%s-%.150s", vname, name);
	ret = io_renameat(s->io, s->stagingfd, name, ofd, oname, 0);
	close(ofd);
	if (ret == 0)
		store_journal_note(s, JOURNAL_ORPHAN, path, size, NULL, oname,
			     "staged data never committed", NULL);
	return ret;
}

void stage_free(struct store *s, struct stage *st)
{
	if (!st)
		return;
	bg_stop(st);
	io_close(s->io, st->fd);
	orphan(s, st->name, -1);
	format_check_free(st->check);
	free(st);
}

/*
 * After a crash: every shadow left in staging/ holds data that was never
 * committed (a committed shadow is renamed away), so each goes to .orphans.
 * Only the staging dir is read, never the whole tree.
 */
static int store_recover(struct store *s)
{
	struct io_dir *d;
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	char (*names)[NAME_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	int ret;

	ret = io_opendir_fd(s->io, s->stagingfd, &d);
	if (ret < 0)
		return ret;
	while ((ret = io_readdir(s->io, d, pos, &name, &type, &next, NULL)) == 1) {
		pos = next;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (strlen(name) >= sizeof(names[0]))
			continue; /* not one of ours */
		if (n == cap) {
			void *p = realloc(names, (cap = cap ? cap * 2 : 16) *
							 sizeof(names[0]));
			if (!p) {
				ret = -ENOMEM;
				break;
			}
			names = p;
		}
		strcpy(names[n++], name);
	}
	io_closedir(d);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = strncmp(names[i], APPEND_MARKER_PREFIX,
			      strlen(APPEND_MARKER_PREFIX))
			      ? orphan(s, names[i], -1)
			      : append_recover(s, names[i]);
	if (ret == 0 && n)
		io_fsync_dir(s->io, s->versionsfd);
	free(names);
	return ret;
}
