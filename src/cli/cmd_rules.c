/* SPDX-License-Identifier: MIT */
/* upglog rules: prove, list and export the pattern catalogue. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "upglog/classify.h"

struct check_ctx {
	const struct cli_io *io;
	const struct ul_rule *last;
	size_t rules_failed;
};

static void on_failure(void *ctx, const struct ul_check_failure *f)
{
	struct check_ctx *c = ctx;
	if (c->last != f->rule) {
		c->last = f->rule;
		c->rules_failed++;
	}
	fprintf(c->io->out, "FAIL %s (%s:%u): %s \"%s\": %s\n", f->rule->id, f->rule->origin,
	        f->rule->line, f->kind, f->line, f->reason);
}

static int check(const struct cli_io *io, const struct ul_catalog *cat)
{
	struct ul_error err;
	struct ul_classifier *cl = ul_classifier_create(cat, true, &err);
	if (!cl) {
		cli_error(io, "%s", err.msg);
		return UL_EXIT_USAGE;
	}
	struct check_ctx ctx = { .io = io };
	size_t failures = ul_classify_check(cl, on_failure, &ctx);
	ul_classifier_destroy(cl);
	size_t n = ul_catalog_count(cat), samples = 0, nots = 0;
	for (size_t i = 0; i < n; i++) {
		samples += ul_catalog_rule(cat, i)->nsamples;
		nots += ul_catalog_rule(cat, i)->nnots;
	}
	if (failures) {
		fprintf(io->out, "%zu of %zu rules failed (%zu problems)\n", ctx.rules_failed, n,
		        failures);
		return UL_EXIT_FAILURE;
	}
	fprintf(io->out, "%zu rules, %zu samples, %zu near misses: all pass\n", n, samples, nots);
	return UL_EXIT_OK;
}

/* Whether rule `i` is one of the IDs asked for (all when none were). */
static bool wanted(const struct ul_catalog *cat, size_t i, char **ids, int nids)
{
	for (int k = 0; k < nids; k++)
		if (strcmp(ul_catalog_rule(cat, i)->id, ids[k]) == 0)
			return true;
	return nids == 0;
}

static int list(const struct cli_io *io, const struct ul_catalog *cat, char **ids, int nids)
{
	fprintf(io->out, "%-4s %-36s %-12s %-16s %-14s %4s %-9s %s\n", "rank", "id", "severity",
	        "family", "event", "prio", "evidence", "title");
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
		if (!wanted(cat, i, ids, nids))
			continue;
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		char fam[64];
		ul_catalog_family_set_format(cat, r->families, ",", fam, sizeof(fam));
		fprintf(io->out, "%-4zu %-36s %-12s %-16s %-14s %4d %-9s %s\n", i, r->id,
		        ul_severity_name(r->severity), fam,
		        r->event ? ul_event_name(r->event) : "-", r->priority, r->evidence,
		        r->title);
	}
	return UL_EXIT_OK;
}

static void print_list(const struct cli_io *io, const char *key, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(io->out, "  %-11s%s\n", key, v[i]);
}

static int families(const struct cli_io *io, const struct ul_catalog *cat)
{
	static const char *const encs[] = { "utf-8", "utf-8-bom", "utf-16le", "utf-16be" };
	for (size_t f = 0; f < ul_catalog_families(cat); f++) {
		const struct ul_family_def *d = ul_catalog_family_def(cat, (ul_family)f);
		size_t nrules;
		ul_catalog_family(cat, (ul_family)f, &nrules);
		fprintf(io->out, "%sfamily %s  (%s:%u, %zu rules)\n", f ? "\n" : "", d->name,
		        d->origin, d->line, nrules);
		fprintf(io->out, "  %-11s%s\n  %-11s%s\n", "title", d->title, "verdict",
		        ul_verdict_model_name(d->model));
		if (d->decides != ~0u) {
			fprintf(io->out, "  %-10s", "decides");
			for (int e = 1; e < UL_EV_COUNT; e++)
				if ((d->decides >> e) & 1)
					fprintf(io->out, " %s", ul_event_name((enum ul_event)e));
			fputc('\n', io->out);
		}
		if (d->priority)
			fprintf(io->out, "  %-11s%d\n", "priority", d->priority);
		if (d->fallback)
			fprintf(io->out, "  %-11syes\n", "fallback");
		print_list(io, "first-line", d->first_lines, d->nfirst_lines);
		print_list(io, "line", d->lines, d->nlines);
		print_list(io, "name", d->names, d->nnames);
		print_list(io, "path", d->paths, d->npaths);
		if (d->encodings) {
			fprintf(io->out, "  %-10s", "encoding");
			for (unsigned e = 0; e < sizeof(encs) / sizeof(encs[0]); e++)
				if ((d->encodings >> e) & 1)
					fprintf(io->out, " %s", encs[e]);
			fputc('\n', io->out);
		}
	}
	return UL_EXIT_OK;
}

static int export_regex(const struct cli_io *io, const struct ul_catalog *cat, char **ids, int nids)
{
	char buf[8192];
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
		if (!wanted(cat, i, ids, nids))
			continue;
		if (!ul_catalog_export_regex(cat, i, buf, sizeof(buf))) {
			cli_error(io, "rule %s: pattern too long to export",
			          ul_catalog_rule(cat, i)->id);
			return UL_EXIT_FAILURE;
		}
		fprintf(io->out, "%s\n", buf);
	}
	return UL_EXIT_OK;
}

/* Every ID must name a rule; a near miss gets a suggestion. */
static bool known_ids(const struct cli_io *io, const struct ul_catalog *cat, char **ids, int nids)
{
	size_t n = ul_catalog_count(cat);
	const char **names = calloc(n + 1, sizeof(*names));
	bool ok = names != NULL;
	for (size_t i = 0; names && i < n; i++)
		names[i] = ul_catalog_rule(cat, i)->id;
	for (int k = 0; ok && k < nids; k++) {
		size_t i = 0;
		while (i < n && strcmp(names[i], ids[k]) != 0)
			i++;
		if (i < n)
			continue;
		const char *near = cli_did_you_mean(ids[k], names);
		fprintf(io->err, "upglog rules: no rule '%s'%s%s%s\n", ids[k],
		        near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		ok = false;
	}
	free(names);
	return ok;
}

/*
 * Options of rules. To add one: a row here and a case in option(); --help, the man page and
 * the completions follow from the row.
 */
enum { CHECK = 1, LIST, EXPORT, RULES, FAMILIES };
static const struct cli_opt opts[] = {
	{ CHECK, 0, "check", NULL, NULL, CLI_COMP_NONE,
	  "prove every rule: each sample matches and wins its line, each 'not' line does not "
	  "match, each pattern is portable; exit 1 naming every rule that fails" },
	{ LIST, 0, "list", NULL, NULL, CLI_COMP_NONE,
	  "print the rules in precedence order (default)" },
	{ FAMILIES, 0, "families", NULL, NULL, CLI_COMP_NONE,
	  "print the declared log families: how each is recognised, how its verdict is "
	  "decided, where it is declared" },
	{ EXPORT, 0, "export-regex", NULL, NULL, CLI_COMP_NONE,
	  "print one regex per line, in the syntax PCRE2 and ripgrep both accept (rg -f FILE), "
	  "in precedence order" },
	{ RULES, 0, "rules", "DIR", NULL, CLI_COMP_DIR,
	  "add a folder of *.rules files (repeatable)" },
	{ 0 },
};

struct rules_args {
	const struct cli_io *io;
	struct cli_rules rules;
	int mode;
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct rules_args *a = ctx;
	switch (o->id) {
	case CHECK:
	case LIST:
	case EXPORT:
	case FAMILIES:
		if (a->mode && a->mode != o->id)
			return cli_usage_error(a->io, &cli_cmd_rules,
			                       "--check, --list, --families and --export-regex "
			                       "exclude each other");
		a->mode = o->id;
		return 0;
	case RULES:
		if (!cli_rules_add(&a->rules, value))
			return cli_usage_error(a->io, &cli_cmd_rules, "too many --rules folders");
		return 0;
	default:
		return UL_EXIT_USAGE;
	}
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct rules_args a = { .io = io };
	int nargs;
	int r = cli_parse(&cli_cmd_rules, argc, argv, io, option, &a, &nargs);
	if (r != 0 || nargs < 0)
		return r;
	int mode = a.mode;
	if (nargs > 0 && (mode == CHECK || mode == FAMILIES))
		return cli_usage_error(
		        io, &cli_cmd_rules,
		        "--check and --families take the whole catalogue; rule IDs go "
		        "with --list or --export-regex");
	struct ul_catalog *cat = cli_load_catalog(io, &a.rules);
	if (!cat)
		return UL_EXIT_USAGE;
	if (!known_ids(io, cat, argv + 1, nargs)) {
		ul_catalog_destroy(cat);
		return UL_EXIT_USAGE;
	}
	int rc = mode == CHECK      ? check(io, cat)
	         : mode == EXPORT   ? export_regex(io, cat, argv + 1, nargs)
	         : mode == FAMILIES ? families(io, cat)
	                            : list(io, cat, argv + 1, nargs);
	ul_catalog_destroy(cat);
	return rc;
}

const struct cli_cmd cli_cmd_rules = {
	.name = "rules",
	.summary = "check, list or export the pattern catalogue",
	.synopsis = "[OPTIONS] [--check | --list | --export-regex] [ID...]",
	.about = "Work with the pattern catalogue: the shipped one (see CATALOGUE in upglog(1) for "
	         "where it is found) plus each --rules DIR (a rule with the same id replaces the "
	         "shipped one). IDs limit --list and --export-regex to those rules.\n",
	.opts = opts,
	.args = CLI_COMP_RULE_IDS,
	.run = run,
};
