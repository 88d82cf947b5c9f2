/* SPDX-License-Identifier: MIT */
/* The option tables: parsing, --help, "did you mean". */
#include "opts.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HELP_WIDTH 79

static const struct cli_opt common_opts[] = {
	{ CLI_OPT_HELP, 'h', "help", NULL, NULL, CLI_COMP_NONE, "print this help and exit" },
	{ 0 },
};

const char *cli_who(const struct cli_cmd *cmd)
{
	static char who[64];
	snprintf(who, sizeof(who), "upglog%s%s", *cmd->name ? " " : "", cmd->name);
	return who;
}

const struct cli_opt *cli_opt_at(const struct cli_cmd *cmd, size_t i)
{
	const struct cli_opt *tables[] = { cmd->opts, cmd->more_opts, common_opts };
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct cli_opt *o = tables[t]; o && o->name; o++) {
			if (i == 0)
				return o;
			i--;
		}
	}
	return NULL;
}

size_t cli_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *cli_did_you_mean(const char *word, const char *const *names)
{
	const char *best = NULL, *prefix_of = NULL;
	size_t best_d = (size_t)-1, nprefix = 0, wl = strlen(word);
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(word, names[i]) == 0)
			return NULL; /* not a typo */
		size_t d = cli_edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
		if (wl >= 2 && strncmp(names[i], word, wl) == 0) {
			prefix_of = names[i];
			nprefix++;
		}
	}
	/* One edit in a short word, two in a longer one: further is a different word. */
	size_t limit = wl <= 4 ? 1 : wl <= 8 ? 2 : 3;
	if (best && best_d > 0 && best_d <= limit)
		return best;
	if (nprefix == 1)
		return prefix_of;
	return NULL;
}

/* "text or json", "table, csv or json" */
static void say_values(FILE *f, const char *values)
{
	const char *p = values;
	while (*p) {
		size_t len = strcspn(p, "|");
		fwrite(p, 1, len, f);
		p += len;
		if (!*p)
			break;
		p++;
		fputs(strchr(p, '|') ? ", " : " or ", f);
	}
}

static bool value_allowed(const char *values, const char *v)
{
	size_t vl = strlen(v);
	for (const char *p = values; *p;) {
		size_t len = strcspn(p, "|");
		if (len == vl && strncmp(p, v, len) == 0)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

static int bad_value(const struct cli_cmd *cmd, const struct cli_io *io, const struct cli_opt *o,
                     const char *v)
{
	char buf[256];
	const char *names[16];
	size_t n = 0;
	snprintf(buf, sizeof(buf), "%s", o->values);
	for (char *save = NULL, *t = strtok_r(buf, "|", &save); t && n < 15;
	     t = strtok_r(NULL, "|", &save))
		names[n++] = t;
	names[n] = NULL;
	const char *near = cli_did_you_mean(v, names);
	fprintf(io->err, "%s: --%s takes ", cli_who(cmd), o->name);
	say_values(io->err, o->values);
	fprintf(io->err, ", not '%s'", v);
	if (near)
		fprintf(io->err, " (did you mean '%s'?)", near);
	fprintf(io->err, "\nRun '%s --help' for usage.\n", cli_who(cmd));
	return UL_EXIT_USAGE;
}

static int unknown_option(const struct cli_cmd *cmd, const struct cli_io *io, const char *arg)
{
	/* Suggest among the long names; "-x" is compared with the short ones too. */
	const char *names[128];
	char shorts[128][3];
	size_t n = 0;
	const struct cli_opt *o;
	bool is_short = arg[1] != '-';
	for (size_t i = 0; (o = cli_opt_at(cmd, i)) && n < 127; i++) {
		if (is_short) {
			if (!o->short_name)
				continue;
			shorts[n][0] = '-';
			shorts[n][1] = o->short_name;
			shorts[n][2] = '\0';
			names[n] = shorts[n];
			n++;
		} else {
			names[n++] = o->name;
		}
	}
	names[n] = NULL;
	char word[128];
	size_t wl = strcspn(arg + (is_short ? 0 : 2), "=");
	snprintf(word, sizeof(word), "%.*s", (int)(wl < 127 ? wl : 127), arg + (is_short ? 0 : 2));
	const char *near = is_short ? NULL : cli_did_you_mean(word, names);
	fprintf(io->err, "%s: unknown option '%.*s'", cli_who(cmd), (int)strcspn(arg, "="), arg);
	if (near)
		fprintf(io->err, " (did you mean '--%s'?)", near);
	fprintf(io->err, "\nRun '%s --help' for usage.\n", cli_who(cmd));
	return UL_EXIT_USAGE;
}

static const struct cli_opt *find_long(const struct cli_cmd *cmd, const char *name, size_t len)
{
	const struct cli_opt *o;
	for (size_t i = 0; (o = cli_opt_at(cmd, i)); i++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_cmd *cmd, char c)
{
	const struct cli_opt *o;
	for (size_t i = 0; (o = cli_opt_at(cmd, i)); i++)
		if (o->short_name == c)
			return o;
	return NULL;
}

/* Hand one option to the handler, or print the help. 1 means --help was printed. */
static int take(const struct cli_cmd *cmd, const struct cli_io *io, const struct cli_opt *o,
                const char *v, cli_opt_fn fn, void *ctx)
{
	if (o->id == CLI_OPT_HELP) {
		cli_print_help(cmd, io->out);
		return -1;
	}
	if (v && o->values && !value_allowed(o->values, v))
		return bad_value(cmd, io, o, v);
	return fn(ctx, o, v);
}

static bool is_argument(const char *a)
{
	return a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9');
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, const struct cli_io *io,
              cli_opt_fn fn, void *ctx, int *nargs)
{
	int npos = 0, rc = 0;
	bool only_args = false;
	*nargs = 0;
	for (int i = 1; i < argc && rc == 0; i++) {
		char *a = argv[i];
		if (only_args || is_argument(a)) {
			argv[1 + npos++] = a;
			if (cmd->stop_at_argument)
				only_args = true;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct cli_opt *o = find_long(cmd, name, len);
			if (!o)
				return unknown_option(cmd, io, a);
			const char *v = NULL;
			if (o->arg) {
				if (eq)
					v = eq + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else
					return cli_usage_error(io, cmd,
					                       "option '--%s' needs a value (%s)",
					                       o->name, o->arg);
			} else if (eq) {
				return cli_usage_error(io, cmd, "option '--%s' takes no value",
				                       o->name);
			}
			rc = take(cmd, io, o, v, fn, ctx);
			continue;
		}
		/* A run of short options: flags, then at most one that takes the rest or the next. */
		for (const char *p = a + 1; *p && rc == 0; p++) {
			const struct cli_opt *o = find_short(cmd, *p);
			if (!o) {
				char s[3] = { '-', *p, '\0' };
				return unknown_option(cmd, io, s);
			}
			if (!o->arg) {
				rc = take(cmd, io, o, NULL, fn, ctx);
				continue;
			}
			const char *v = p[1] ? p + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!v)
				return cli_usage_error(io, cmd, "option '-%c' needs a value (%s)",
				                       *p, o->arg);
			rc = take(cmd, io, o, v, fn, ctx);
			break;
		}
	}
	if (rc < 0) {
		*nargs = -1;
		return 0;
	}
	*nargs = npos;
	return rc;
}

/* `text` wrapped to HELP_WIDTH, the first line starting at column `col`, the others at `indent`. */
static void wrap(FILE *f, const char *text, size_t col, size_t indent)
{
	bool first = true;
	while (*text) {
		size_t len = strcspn(text, " \n");
		if (!first && col + 1 + len > HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, len, f);
		col += len;
		text += len;
		text += strspn(text, " \n");
		first = false;
	}
	fputc('\n', f);
}

const char *cli_opt_metavar(const struct cli_opt *o)
{
	if (!o->arg)
		return NULL;
	return o->values && strlen(o->values) <= 16 ? o->values : o->arg;
}

/* "-f, --format text|json" or "    --rules DIR" */
static size_t opt_label(const struct cli_opt *o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
	                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
	                 o->arg ? " " : "", o->arg ? cli_opt_metavar(o) : "");
	return n < 0 ? 0 : (size_t)n;
}

void cli_print_paragraphs(FILE *f, const char *text)
{
	while (*text) {
		const char *end = strstr(text, "\n\n");
		size_t len = end ? (size_t)(end - text) : strlen(text);
		char *p = strndup(text, len);
		if (p) {
			wrap(f, p, 0, 0);
			free(p);
		}
		text += len;
		if (*text) {
			text += 2;
			fputc('\n', f);
		}
	}
}

void cli_print_options(const struct cli_cmd *cmd, FILE *f)
{
	char label[128];
	size_t w = 0;
	const struct cli_opt *o;
	/* A very long label takes its own line rather than pushing every help text right. */
	for (size_t i = 0; (o = cli_opt_at(cmd, i)); i++) {
		size_t n = opt_label(o, label, sizeof(label));
		if (o->help && n > w && n <= 24)
			w = n;
	}
	for (size_t i = 0; (o = cli_opt_at(cmd, i)); i++) {
		if (!o->help)
			continue;
		size_t n = opt_label(o, label, sizeof(label));
		fprintf(f, "  %s", label);
		if (n > w)
			fprintf(f, "\n%*s", (int)(2 + w + 2), "");
		else
			fprintf(f, "%*s", (int)(w - n + 2), "");
		wrap(f, o->help, 2 + w + 2, 2 + w + 2);
	}
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
	if (cmd->print_help) {
		cmd->print_help(f);
		return;
	}
	fprintf(f, "usage: %s %s\n\n", cli_who(cmd), cmd->synopsis);
	cli_print_paragraphs(f, cmd->about);
	fputs("\noptions:\n", f);
	cli_print_options(cmd, f);
	if (cmd->epilog && *cmd->epilog) {
		fputc('\n', f);
		cli_print_paragraphs(f, cmd->epilog);
	}
}
