/* SPDX-License-Identifier: MIT */
/* upglog rules: prove, list and export the pattern catalogue. */
#include <string.h>

#include "cli.h"
#include "upglog/classify.h"

static const char usage[] =
        "usage: upglog rules [--rules DIR]... [--check | --list | --families | --export-regex]\n"
        "\n"
        "Work with the pattern catalogue: the shipped patterns/ folder plus each --rules DIR\n"
        "(a rule with the same id replaces the shipped one).\n"
        "\n"
        "  --check         prove every rule: each sample matches and wins its line, each 'not'\n"
        "                  line does not match, each pattern is portable; exit 1 naming every\n"
        "                  rule that fails\n"
        "  --list          print the rules in precedence order (default)\n"
        "  --families      print the declared log families: how each is recognised, how its\n"
        "                  verdict is decided, where it is declared\n"
        "  --export-regex  print one regex per line, in the syntax PCRE2 and ripgrep both accept\n"
        "                  (rg -f FILE), in precedence order\n"
        "  --rules DIR     add a folder of *.rules files (repeatable)\n"
        "  --help          this text\n";

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

static int list(const struct cli_io *io, const struct ul_catalog *cat)
{
	fprintf(io->out, "%-4s %-36s %-12s %-16s %-14s %4s %-9s %s\n", "rank", "id", "severity",
	        "family", "event", "prio", "evidence", "title");
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
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

static int export_regex(const struct cli_io *io, const struct ul_catalog *cat)
{
	char buf[8192];
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
		if (!ul_catalog_export_regex(cat, i, buf, sizeof(buf))) {
			cli_error(io, "rule %s: pattern too long to export",
			          ul_catalog_rule(cat, i)->id);
			return UL_EXIT_FAILURE;
		}
		fprintf(io->out, "%s\n", buf);
	}
	return UL_EXIT_OK;
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	enum { CHECK = 1, LIST, EXPORT, RULES, FAMILIES };
	static const struct option opts[] = {
		{ "check", no_argument, NULL, CHECK },
		{ "list", no_argument, NULL, LIST },
		{ "families", no_argument, NULL, FAMILIES },
		{ "export-regex", no_argument, NULL, EXPORT },
		{ "rules", required_argument, NULL, RULES },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_rules rules = { 0 };
	int mode = 0, c;
	while ((c = cli_getopt(argc, argv, NULL, opts, &cli_cmd_rules, io)) != -1) {
		switch (c) {
		case CHECK:
		case LIST:
		case EXPORT:
		case FAMILIES:
			if (mode && mode != c)
				return cli_usage_error(
				        io, &cli_cmd_rules,
				        "--check, --list, --families and --export-regex "
				        "exclude each other");
			mode = c;
			break;
		case RULES:
			if (!cli_rules_add(&rules, optarg))
				return cli_usage_error(io, &cli_cmd_rules,
				                       "too many --rules folders");
			break;
		default:
			return UL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(io, &cli_cmd_rules, "unexpected argument '%s'",
		                       argv[optind]);
	struct ul_catalog *cat = cli_load_catalog(io, &rules);
	if (!cat)
		return UL_EXIT_USAGE;
	int rc = mode == CHECK      ? check(io, cat)
	         : mode == EXPORT   ? export_regex(io, cat)
	         : mode == FAMILIES ? families(io, cat)
	                            : list(io, cat);
	ul_catalog_destroy(cat);
	return rc;
}

const struct cli_cmd cli_cmd_rules = {
	.name = "rules",
	.summary = "check, list or export the pattern catalogue",
	.usage = usage,
	.run = run,
};
