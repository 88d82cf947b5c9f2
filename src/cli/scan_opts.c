/* SPDX-License-Identifier: MIT */
/* Options shared by `scan` and `triage`, and the scan run with its progress and problem lines. */
#include "scan_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upglog/cluster.h"
#include "upglog/mask.h"
#include "upglog/report.h"

const struct cli_opt cli_scan_opts[] = {
	{ OPT_RULES, 0, "rules", "DIR", NULL, CLI_COMP_DIR,
	  "add a folder of *.rules files (repeatable); a rule with a shipped rule's id "
	  "replaces it" },
	{ OPT_JOBS, 'j', "jobs", "N", NULL, CLI_COMP_NONE,
	  "threads that classify, the reading one included (default: one per CPU; 1 = "
	  "everything on one thread)" },
	{ OPT_KEEP_NOISE, 0, "keep-noise", NULL, NULL, CLI_COMP_NONE,
	  "store harmless lines as findings too (they are always counted)" },
	{ OPT_FORCE, 0, "force", NULL, NULL, CLI_COMP_NONE,
	  "read every file again, even when unchanged since the last scan" },
	{ OPT_MAX_SIZE, 0, "max-size", "N", NULL, CLI_COMP_NONE,
	  "largest expanded size of one compressed member (default 8G)" },
	{ OPT_MAX_RATIO, 0, "max-ratio", "N", NULL, CLI_COMP_NONE,
	  "largest expansion ratio of one compressed member (default 200)" },
	{ OPT_MAX_DEPTH, 0, "max-depth", "N", NULL, CLI_COMP_NONE,
	  "containers inside containers, gzip layers too (default 3)" },
	{ OPT_MAX_LINE, 0, "max-line", "N", NULL, CLI_COMP_NONE,
	  "longer lines are cut to N bytes and counted (default 64K)" },
	{ OPT_NO_PREFILTER, 0, "no-prefilter", NULL, NULL, CLI_COMP_NONE,
	  "match with PCRE2 alone (same findings, slower; for verification)" },
	/* servers and the cluster */
	{ OPT_HOST, 0, "host", "NAME", NULL, CLI_COMP_NONE,
	  "the server of inputs whose logs name none (else the input's name)" },
	{ OPT_LABEL, 0, "label", "NAME", NULL, CLI_COMP_NONE,
	  "the name of standard input (-): stored as stdin:NAME" },
	{ OPT_ROLE, 0, "role", "HOST=ROLE", NULL, CLI_COMP_NONE,
	  "a server's role: publisher, tftp, services, subscriber, secondary, primary or "
	  "application (repeatable); else read from the logs" },
	{ OPT_WINDOW, 0, "window", "DURATION", NULL, CLI_COMP_NONE,
	  "the maintenance window of the cluster (default 8h; 90m, 1h30m)" },
	{ 0 },
};

void cli_scan_init(struct cli_scan *cs)
{
	memset(cs, 0, sizeof(*cs));
}

void cli_scan_finish(struct cli_scan *cs)
{
	for (size_t i = 0; i < cs->npaths; i++)
		free(cs->paths[i]);
	free(cs->paths);
	free(cs->arguments);
	memset(cs, 0, sizeof(*cs));
}

static bool size_opt(const struct cli_io *io, const struct cli_cmd *cmd, const char *name,
                     const char *arg, unsigned long long *out, int *rc)
{
	if (cli_parse_u64(arg, out) && *out > 0)
		return true;
	*rc = cli_usage_error(io, cmd, "%s needs a positive number, not '%s'", name, arg);
	return false;
}

int cli_scan_option(struct cli_scan *cs, int id, const char *arg, const struct cli_cmd *cmd,
                    const struct cli_io *io)
{
	unsigned long long v;
	int rc = 0;
	switch (id) {
	case OPT_DB:
		cs->db = arg;
		return 0;
	case OPT_RULES:
		if (!cli_rules_add(&cs->rules, arg))
			return cli_usage_error(io, cmd, "too many --rules folders");
		return 0;
	case OPT_JOBS:
		if (!cli_parse_u64(arg, &v) || v > 256)
			return cli_usage_error(io, cmd, "--jobs needs a number from 0 to 256");
		cs->opts.jobs = (unsigned)v;
		return 0;
	case OPT_KEEP_NOISE:
		cs->opts.keep_noise = true;
		return 0;
	case OPT_QUIET:
		cs->quiet = true;
		return 0;
	case OPT_FORCE:
		cs->opts.force = true;
		return 0;
	case OPT_NO_PREFILTER:
		cs->opts.no_prefilter = true;
		return 0;
	case OPT_MAX_SIZE:
		if (!size_opt(io, cmd, "--max-size", arg, &v, &rc))
			return rc;
		cs->opts.limits.max_size = v;
		return 0;
	case OPT_MAX_RATIO:
		if (!size_opt(io, cmd, "--max-ratio", arg, &v, &rc))
			return rc;
		cs->opts.limits.max_ratio = v;
		return 0;
	case OPT_MAX_DEPTH:
		if (!size_opt(io, cmd, "--max-depth", arg, &v, &rc) || v > 16)
			return rc ? rc : cli_usage_error(io, cmd, "--max-depth is at most 16");
		cs->opts.limits.max_depth = (unsigned)v;
		return 0;
	/* ---- servers and the cluster ---- */
	case OPT_HOST:
		if (!*arg || strlen(arg) > 63)
			return cli_usage_error(io, cmd,
			                       "--host needs a server name (at most 63 bytes)");
		cs->opts.host = arg;
		return 0;
	case OPT_LABEL:
		if (!*arg || strlen(arg) > 200)
			return cli_usage_error(io, cmd, "--label needs a name (at most 200 bytes)");
		cs->opts.label = arg;
		return 0;
	case OPT_ROLE: {
		char host[64];
		enum ul_role role;
		if (!ul_cluster_parse_role(arg, host, sizeof(host), &role))
			return cli_usage_error(io, cmd,
			                       "--role needs HOST=ROLE with ROLE one of publisher, "
			                       "tftp, services, subscriber, secondary, primary, "
			                       "application; not '%s'",
			                       arg);
		if (cs->nroles == CLI_MAX_ROLES)
			return cli_usage_error(io, cmd, "too many --role options");
		cs->roles[cs->nroles++] = arg;
		return 0;
	}
	case OPT_WINDOW:
		if (!ul_cluster_parse_duration(arg, &cs->window))
			return cli_usage_error(
			        io, cmd,
			        "--window needs a duration such as 8h, 90m or 1h30m, "
			        "not '%s'",
			        arg);
		return 0;
	case OPT_MAX_LINE:
		if (!size_opt(io, cmd, "--max-line", arg, &v, &rc) || v > (64ull << 20) || v < 256)
			return rc ? rc : cli_usage_error(io, cmd, "--max-line must be 256 .. 64M");
		cs->opts.max_line = (size_t)v;
		return 0;
	default:
		return -1;
	}
}

/*
 * JSON array of the command line, for scans.arguments, secrets masked: each argument is
 * masked as part of the whole command line, so `-P secret` is found across two of them.
 */
static char *arguments_json(int argc, char **argv)
{
	char *s = NULL, *line = NULL;
	size_t len = 0, llen = 0;
	FILE *l = open_memstream(&line, &llen);
	if (!l)
		return NULL;
	for (int i = 0; i < argc; i++)
		fprintf(l, "%s%s", i ? " " : "", argv[i]);
	if (fclose(l) != 0) {
		free(line);
		return NULL;
	}
	FILE *f = open_memstream(&s, &len);
	if (!f) {
		free(line);
		return NULL;
	}
	fputc('[', f);
	bool ok = true;
	for (size_t i = 0, at = 0; i < (size_t)argc; i++) {
		size_t n = strlen(argv[i]);
		char *m = ul_mask_slice(line, llen, at, n);
		ok = ok && m;
		if (i)
			fputc(',', f);
		ul_report_json_string(f, m ? m : "");
		free(m);
		at += n + 1;
	}
	free(line);
	fputc(']', f);
	ok = ok && !ferror(f);
	if (fclose(f) != 0 || !ok) {
		free(s);
		return NULL;
	}
	return s;
}

bool cli_output_writable(const struct cli_io *io, const char *path)
{
	struct stat st;
	int e = 0;
	if (stat(path, &st) == 0)
		e = S_ISDIR(st.st_mode) ? EISDIR : access(path, W_OK) != 0 ? errno : 0;
	else if (errno != ENOENT)
		e = errno;
	else {
		/* A new file: its folder must exist and take it. */
		const char *slash = strrchr(path, '/');
		char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
		                  : strdup(".");
		if (!dir)
			e = ENOMEM;
		else if (access(dir, W_OK | X_OK) != 0)
			e = errno;
		free(dir);
	}
	if (e)
		cli_error(io, "%s: cannot write: %s", path, strerror(e));
	return e == 0;
}

bool cli_stdin_twice(int argc, char **argv, int first)
{
	int n = 0;
	for (int i = first; i < argc; i++)
		n += strcmp(argv[i], "-") == 0;
	return n > 1;
}

bool cli_scan_paths(struct cli_scan *cs, int argc, char **argv, int first)
{
	cs->arguments = arguments_json(argc, argv);
	size_t n = argc > first ? (size_t)(argc - first) : 0;
	cs->paths = calloc(n ? n : 1, sizeof(*cs->paths));
	if (!cs->arguments || !cs->paths)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *p = argv[first + (int)i];
		/* Absolute paths make re-scans from another folder find the same rows. */
		char *abs = strcmp(p, "-") == 0 ? NULL : realpath(p, NULL);
		cs->paths[i] = abs ? abs : strdup(p);
		if (!cs->paths[i])
			return false;
		cs->npaths++;
	}
	return true;
}

/* "s" unless there is exactly one. */
static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void human_bytes(char *buf, size_t cap, double b)
{
	const char *unit[] = { "B", "KB", "MB", "GB", "TB" };
	int u = 0;
	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

struct run_ctx {
	const struct cli_io *io;
	bool quiet;
	bool progress_shown;
};

static void on_problem(void *ctx, const char *kind, const char *msg)
{
	struct run_ctx *c = ctx;
	if (c->progress_shown) {
		fputs("\r\033[K", c->io->err);
		c->progress_shown = false;
	}
	(void)kind;
	fprintf(c->io->err, "upglog: %s\n", msg);
}

/* "1:05" or "1:02:05" */
static void clock_text(char *buf, size_t cap, double seconds)
{
	unsigned long t = (unsigned long)(seconds + 0.5);
	if (t >= 3600)
		snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

void cli_progress_line(FILE *f, const struct ul_scan_stats *s)
{
	char bytes[32], rate[32];
	human_bytes(bytes, sizeof(bytes), (double)s->bytes);
	fputs("\r\033[K ", f);
	if (s->input_total) {
		/* Position in the inputs as stored: percentage, rate on disk, time left. */
		char done[32], total[32], left[32];
		double frac = (double)s->input_done / (double)s->input_total;
		double r = s->seconds > 0 ? (double)s->input_done / s->seconds : 0;
		human_bytes(done, sizeof(done), (double)s->input_done);
		human_bytes(total, sizeof(total), (double)s->input_total);
		human_bytes(rate, sizeof(rate), r);
		fprintf(f, "%3.0f%% \xC2\xB7 %s of %s \xC2\xB7 %s/s", frac * 100, done, total,
		        rate);
		if (r > 0) {
			clock_text(left, sizeof(left),
			           (double)(s->input_total - s->input_done) / r);
			fprintf(f, " \xC2\xB7 %s left", left);
		}
		fprintf(f, " \xC2\xB7 %llu files \xC2\xB7 %llu findings",
		        (unsigned long long)(s->files + s->kept), (unsigned long long)s->findings);
	} else {
		human_bytes(rate, sizeof(rate), s->seconds > 0 ? (double)s->bytes / s->seconds : 0);
		fprintf(f, " %llu files \xC2\xB7 %s \xC2\xB7 %llu findings \xC2\xB7 %s/s",
		        (unsigned long long)(s->files + s->kept), bytes,
		        (unsigned long long)s->findings, rate);
	}
	fflush(f);
}

static void on_progress(void *ctx, const struct ul_scan_stats *s)
{
	struct run_ctx *c = ctx;
	cli_progress_line(c->io->err, s);
	c->progress_shown = true;
}

bool cli_scan_run(struct cli_scan *cs, const struct cli_io *io, struct ul_store *st,
                  const struct ul_catalog *cat, int64_t *scan_id, struct ul_scan_stats *stats)
{
	struct run_ctx ctx = { .io = io, .quiet = cs->quiet };
	struct ul_error err;
	cs->opts.paths = (const char *const *)cs->paths;
	cs->opts.npaths = cs->npaths;
	cs->opts.arguments = cs->arguments;
	cs->opts.ctx = &ctx;
	cs->opts.on_problem = on_problem;
	cs->opts.on_progress = io->progress && !cs->quiet ? on_progress : NULL;
	ul_error_clear(&err);
	bool ok = ul_scan_run(st, cat, &cs->opts, scan_id, stats, &err);
	if (ctx.progress_shown)
		fputs("\r\033[K", io->err);
	if (!ok)
		cli_error(io, "%s", err.msg);
	return ok;
}

int cli_scan_exit(const struct ul_store_summary *sum, const struct ul_cluster *cl, bool problems)
{
	enum ul_outcome v = ul_cluster_verdict(cl);
	bool stopped = sum->outcome[UL_OUT_FAILED] || sum->outcome[UL_OUTCOME_CANCELLED] ||
	               v == UL_OUT_FAILED || v == UL_OUTCOME_CANCELLED;
	return problems || sum->unreadable ? UL_EXIT_UNREADABLE
	       : stopped                   ? UL_EXIT_FAILURE
	                                   : UL_EXIT_OK;
}

struct ul_cluster *cli_cluster(struct cli_scan *cs, const struct cli_io *io, struct ul_store *st,
                               int64_t scan_id, bool save)
{
	struct ul_cluster_opts co = { .roles = cs->roles,
		                      .nroles = cs->nroles,
		                      .window = cs->window };
	struct ul_error err;
	/* A concurrent scan of the same input may store a file again between the build and the
	 * save: then build again from what is there now. */
	for (int tries = 1;; tries++) {
		struct ul_cluster *cl = ul_cluster_build(st, scan_id, &co, &err);
		if (!cl) {
			cli_error(io, "%s", err.msg);
			return NULL;
		}
		if (!save || ul_cluster_save(st, scan_id, cl, &err))
			return cl;
		ul_cluster_destroy(cl);
		if (strcmp(err.kind, "stale") != 0 || tries == 20) {
			cli_error(io, "%s", err.msg);
			return NULL;
		}
	}
}

/*
 * Peak resident memory of this process in bytes, 0 when unknown. VmHWM counts only this
 * program's own memory; getrusage() would also count what the parent had before exec().
 */
static unsigned long long peak_memory(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

void cli_scan_summary(const struct cli_io *io, const struct ul_scan_stats *s)
{
	char bytes[32], rate[32], peak[32];
	human_bytes(bytes, sizeof(bytes), (double)s->bytes);
	human_bytes(rate, sizeof(rate), s->seconds > 0 ? (double)s->bytes / s->seconds : 0);
	human_bytes(peak, sizeof(peak), (double)peak_memory());
	/* What was kept, said in the units it was decided in: whole inputs, then files. */
	char kept[96] = "";
	if (s->unchanged_inputs && s->kept)
		snprintf(kept, sizeof(kept), " (%llu input%s and %llu more file%s unchanged, kept)",
		         (unsigned long long)s->unchanged_inputs, plural(s->unchanged_inputs),
		         (unsigned long long)s->kept, plural(s->kept));
	else if (s->unchanged_inputs)
		snprintf(kept, sizeof(kept), " (%llu input%s unchanged, kept)",
		         (unsigned long long)s->unchanged_inputs, plural(s->unchanged_inputs));
	else if (s->kept)
		snprintf(kept, sizeof(kept), " (%llu unchanged, kept)",
		         (unsigned long long)s->kept);
	fprintf(io->err,
	        "upglog: scanned %llu file%s%s, %s, %llu line%s in %.2f s "
	        "(%s/s, peak memory %s): %llu finding%s, %llu failed, %llu unreadable\n",
	        (unsigned long long)s->files, plural(s->files), kept, bytes,
	        (unsigned long long)s->lines, plural(s->lines), s->seconds, rate, peak,
	        (unsigned long long)s->findings, plural(s->findings), (unsigned long long)s->failed,
	        (unsigned long long)s->problems);
	if (s->limit_errors)
		fprintf(io->err,
		        "upglog: %llu lines hit the regex match limit and were left "
		        "unclassified by that rule\n",
		        (unsigned long long)s->limit_errors);
}

const char *cli_cwd(void)
{
	static char buf[PATH_MAX];
	return getcwd(buf, sizeof(buf)) ? buf : NULL;
}

struct unread_ctx {
	const struct cli_io *io;
	size_t n;
};

static bool print_unread(void *ctx, const char *path, const char *why)
{
	struct unread_ctx *u = ctx;
	fprintf(u->io->err, "upglog:   %s: %s\n", path ? path : "?", why ? why : "not read");
	u->n++;
	return true;
}

bool cli_scan_unfinished(const struct cli_io *io, struct ul_store *st, const char *db,
                         int64_t scan_id)
{
	struct ul_scan_state ss;
	struct ul_error err;
	if (!ul_store_scan_state(st, scan_id, &ss, NULL, NULL, &err)) {
		cli_error(io, "%s", err.msg);
		return true;
	}
	if (!ss.found || ss.finished)
		return false;
	if (ss.running)
		cli_error(io,
		          "%s: scan #%lld (started %s) is still running: this shows what it has "
		          "stored so far",
		          db, (long long)scan_id, ss.started);
	else
		cli_error(io,
		          "%s: scan #%lld (started %s) did not finish: it was killed or stopped by "
		          "an error; inputs after the last one it began were not reached",
		          db, (long long)scan_id, ss.started);
	struct unread_ctx u = { .io = io };
	fprintf(io->err, "upglog: not read completely:\n");
	if (!ul_store_scan_state(st, scan_id, &ss, print_unread, &u, &err)) {
		cli_error(io, "%s", err.msg);
		return true;
	}
	if (u.n == 0)
		fprintf(io->err, "upglog:   (none: every input it began was read to its end)\n");
	return true;
}
