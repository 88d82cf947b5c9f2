/* SPDX-License-Identifier: MIT */
/* upglog explain: what an error code means, how bad it usually is, and the usual fix. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "upglog/explain.h"
#include "upglog/report.h"

#define WIDTH 79

enum format { TEXT, JSON };

/* The 32-bit value a parsed code stands for (negative decimals are two's complement). */
static unsigned long as_u32(long long v)
{
	return (unsigned long)(v < 0 ? v + 0x100000000LL : v);
}

static const char *facility_name(unsigned f)
{
	static const char *const names[] = {
		"NULL",  "RPC",      "DISPATCH", "STORAGE", "ITF",  "",         "",
		"WIN32", "WINDOWS",  "SECURITY", "CONTROL", "CERT", "INTERNET", "MEDIASERVER",
		"MSMQ",  "SETUPAPI", "SCARD",    "COMPLUS", "AAF",  "URT",
	};
	return f < sizeof(names) / sizeof(names[0]) ? names[f] : "";
}

/* "HRESULT 0x80070643: failure, facility 7 (WIN32), code 0x0643 = 1603" */
static void print_hresult(const struct cli_io *io, unsigned long hr)
{
	unsigned facility = (unsigned)(hr >> 16) & 0x1FFF, code = (unsigned)hr & 0xFFFF;
	const char *fname = facility_name(facility);
	fprintf(io->out, "HRESULT 0x%08lX: %s, facility %u%s%s%s, code 0x%04X = %u\n", hr,
	        hr & 0x80000000UL ? "failure" : "success", facility, *fname ? " (" : "", fname,
	        *fname ? ")" : "", code, code);
}

/* `text` after `lead`, word-wrapped at WIDTH; continuation lines line up under the text. */
static void print_wrapped(FILE *out, const char *lead, const char *text)
{
	size_t indent = strlen(lead), col = indent;
	fputs(lead, out);
	while (*text) {
		size_t len = strcspn(text, " ");
		if (col > indent && col + 1 + len > WIDTH) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(text, 1, len, out);
		col += len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

static void print_code(FILE *out, const struct ul_code_info *e)
{
	if (e->space == UL_SPACE_HRESULT)
		fprintf(out, "0x%08lX", (unsigned long)e->code);
	else
		fprintf(out, "%lld", e->code);
}

static void print_text(const struct cli_io *io, const struct ul_code_info *e)
{
	print_code(io->out, e);
	/* U+2014 EM DASH, in UTF-8. */
	fprintf(io->out, " (%s%s%s) \xE2\x80\x94 %s\n", ul_explain_space_name(e->space),
	        *e->name ? ", " : "", e->name, e->severity);
	print_wrapped(io->out, "  ", e->meaning);
	if (*e->fix)
		print_wrapped(io->out, "  Fix: ", e->fix);
}

static void print_json(const struct cli_io *io, const char *query, const struct ul_code_info *e,
                       bool first)
{
	fputs(first ? "\n  {\"query\": " : ",\n  {\"query\": ", io->out);
	ul_report_json_string(io->out, query);
	fputs(", \"space\": ", io->out);
	ul_report_json_string(io->out, ul_explain_space_name(e->space));
	fprintf(io->out, ", \"code\": %lld, \"name\": ", e->code);
	ul_report_json_string(io->out, e->name);
	fputs(", \"severity\": ", io->out);
	ul_report_json_string(io->out, e->severity);
	fputs(", \"meaning\": ", io->out);
	ul_report_json_string(io->out, e->meaning);
	fputs(", \"fix\": ", io->out);
	ul_report_json_string(io->out, e->fix);
	fputc('}', io->out);
}

/* An HRESULT reading is worth showing when the table knows it as one or it wraps a Win32 code. */
static bool shows_hresult(unsigned long v, const struct ul_code_info **hits, size_t n)
{
	if (v < 0x80000000UL)
		return false;
	if ((v & 0xFFFF0000UL) == 0x80070000UL)
		return true;
	for (size_t i = 0; i < n; i++)
		if (hits[i]->space == UL_SPACE_HRESULT)
			return true;
	return false;
}

/* Explain one code; false when the table does not know it. */
static bool explain(const struct cli_io *io, enum format fmt, const char *query, size_t *printed)
{
	const struct ul_code_info *hits[UL_EXPLAIN_MAX_HITS];
	long long v = 0;
	size_t n = ul_explain_lookup(query, hits, UL_EXPLAIN_MAX_HITS);
	if (!n) {
		cli_error(io, "%s: not in the code table", query);
		return false;
	}
	ul_explain_parse(query, &v); /* cannot fail: run() checked every CODE */
	if (fmt == TEXT && *printed)
		fputc('\n', io->out);
	if (fmt == TEXT && shows_hresult(as_u32(v), hits, n))
		print_hresult(io, as_u32(v));
	for (size_t i = 0; i < n; i++, ++*printed) {
		if (fmt == JSON) {
			print_json(io, query, hits[i], *printed == 0);
			continue;
		}
		if (i > 0)
			fputc('\n', io->out);
		print_text(io, hits[i]);
	}
	return true;
}

/* A rule of the catalogue: what its lines mean and the fix, as a code's explanation is shown. */
static void explain_rule(const struct cli_io *io, enum format fmt, const struct ul_catalog *cat,
                         const struct ul_rule *r, size_t *printed)
{
	char fam[64], where[512];
	ul_catalog_family_set_format(cat, r->families, ",", fam, sizeof(fam));
	snprintf(where, sizeof(where), "%s:%u", r->origin, r->line);
	if (fmt == JSON) {
		fputs(*printed ? ",\n  {\"query\": " : "\n  {\"query\": ", io->out);
		ul_report_json_string(io->out, r->id);
		fputs(", \"space\": \"rule\", \"code\": ", io->out);
		char *end = NULL;
		long long code = r->code ? strtoll(r->code, &end, 0) : 0;
		if (r->code && end && !*end)
			fprintf(io->out, "%lld", code);
		else
			fputs("null", io->out);
		fputs(", \"name\": ", io->out);
		ul_report_json_string(io->out, r->id);
		fputs(", \"severity\": ", io->out);
		ul_report_json_string(io->out, ul_severity_name(r->severity));
		fputs(", \"meaning\": ", io->out);
		ul_report_json_string(io->out, r->explain);
		fputs(", \"fix\": ", io->out);
		ul_report_json_string(io->out, r->fix);
		fputs(", \"title\": ", io->out);
		ul_report_json_string(io->out, r->title);
		fputs(", \"family\": ", io->out);
		ul_report_json_string(io->out, fam);
		fputs(", \"evidence\": ", io->out);
		ul_report_json_string(io->out, r->evidence);
		fputs(", \"origin\": ", io->out);
		ul_report_json_string(io->out, where);
		fputc('}', io->out);
	} else {
		if (*printed)
			fputc('\n', io->out);
		/* U+2014 EM DASH, in UTF-8. */
		fprintf(io->out, "%s (rule, %s, %s, %s) \xE2\x80\x94 %s\n", r->id,
		        ul_severity_name(r->severity), fam, r->evidence, r->title);
		if (*r->explain)
			print_wrapped(io->out, "  ", r->explain);
		if (*r->fix)
			print_wrapped(io->out, "  Fix: ", r->fix);
		if (r->code)
			fprintf(io->out, "  Code: %s\n", r->code);
		fprintf(io->out, "  From: %s\n", where);
	}
	++*printed;
}

/* The rule with this id, or NULL after saying so (with the nearest id). */
static const struct ul_rule *find_rule(const struct cli_io *io, const struct ul_catalog *cat,
                                       const char *id)
{
	size_t n = ul_catalog_count(cat);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ul_catalog_rule(cat, i)->id, id) == 0)
			return ul_catalog_rule(cat, i);
	const char **names = calloc(n + 1, sizeof(*names));
	const char *near = NULL;
	if (names) {
		for (size_t i = 0; i < n; i++)
			names[i] = ul_catalog_rule(cat, i)->id;
		near = cli_did_you_mean(id, names);
	}
	fprintf(io->err,
	        "upglog explain: '%s' is neither a code (decimal, -decimal or 0xHEX) nor a rule "
	        "id%s%s%s\nRun 'upglog explain --help' for usage.\n",
	        id, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	free(names);
	return NULL;
}

/*
 * Options of explain. To add one: a row here and a case in option(); --help, the man page and
 * the completions follow from the row.
 */
enum { FORMAT = 1, RULES };
static const struct cli_opt opts[] = {
	{ FORMAT, 'f', "format", "FMT", "text|json", CLI_COMP_VALUES,
	  "text (default), or json: one array of objects with the keys query, space, code, "
	  "name, severity, meaning and fix (and for a rule title, family, evidence and origin)" },
	{ RULES, 0, "rules", "DIR", NULL, CLI_COMP_DIR,
	  "add a folder of *.rules files, for the rule ids (repeatable)" },
	{ 0 },
};

struct explain_args {
	enum format fmt;
	struct cli_rules rules;
	const struct cli_io *io;
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct explain_args *a = ctx;
	switch (o->id) {
	case FORMAT:
		/* Every value of the row needs its case here (the parser checked the list). */
		if (strcmp(value, "text") == 0)
			a->fmt = TEXT;
		else if (strcmp(value, "json") == 0)
			a->fmt = JSON;
		else
			return cli_usage_error(a->io, &cli_cmd_explain, "--format %s: not handled",
			                       value);
		return 0;
	case RULES:
		if (!cli_rules_add(&a->rules, value))
			return cli_usage_error(a->io, &cli_cmd_explain, "too many --rules folders");
		return 0;
	default:
		return UL_EXIT_USAGE;
	}
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct explain_args a = { .fmt = TEXT, .io = io };
	int nargs;
	int r = cli_parse(&cli_cmd_explain, argc, argv, io, option, &a, &nargs);
	if (r != 0 || nargs < 0)
		return r;
	enum format fmt = a.fmt;
	/* A negative decimal (-2147287038) is a CODE: the parser leaves it among the arguments. */
	int first = 1;
	argc = 1 + nargs;
	if (first >= argc)
		return cli_usage_error(io, &cli_cmd_explain, "no CODE given");
	/* What is not a number is a rule id: every one must name a rule before anything prints. */
	struct ul_catalog *cat = NULL;
	const struct ul_rule **rules = calloc((size_t)argc, sizeof(*rules));
	int rc = UL_EXIT_USAGE;
	if (!rules) {
		cli_error(io, "out of memory");
		return UL_EXIT_USAGE;
	}
	for (int i = first; i < argc; i++) {
		long long v;
		if (ul_explain_parse(argv[i], &v))
			continue;
		if (!cat && !(cat = cli_load_catalog(io, &a.rules)))
			goto out;
		if (!(rules[i] = find_rule(io, cat, argv[i])))
			goto out;
	}
	size_t printed = 0;
	bool all_found = true;
	if (fmt == JSON)
		fputc('[', io->out);
	for (int i = first; i < argc; i++) {
		if (rules[i])
			explain_rule(io, fmt, cat, rules[i], &printed);
		else
			all_found &= explain(io, fmt, argv[i], &printed);
	}
	if (fmt == JSON)
		fputs(printed ? "\n]\n" : "]\n", io->out);
	rc = all_found ? UL_EXIT_OK : UL_EXIT_FAILURE;
out:
	free(rules);
	ul_catalog_destroy(cat);
	return rc;
}

const struct cli_cmd cli_cmd_explain = {
	.name = "explain",
	.summary = "explain an MSI, Windows or setup error code, or a rule",
	.synopsis = "[OPTIONS] CODE|RULE-ID...",
	.about = "Explain error codes met in Windows Installer upgrade logs, from the table built "
	         "into upglog: what each code means, how serious it usually is (noise, info, "
	         "warning, error, catastrophic) and the usual fix. One number can mean different "
	         "things as an msiexec exit code, a Windows Installer message (Error/Info/Note N), "
	         "an action return value, a Windows system error, an HRESULT, an InstallShield "
	         "setup result code or a message of InstallShield's setup.exe launcher "
	         "(is-launcher; its numbers collide with Windows Installer's): every match is "
	         "shown, most specific first.\n\n"
	         "CODE is decimal (1603), negative decimal as MSI writes HRESULTs (-2147287038) or "
	         "hex (0x80070643). An HRESULT is split into facility and code; one of the form "
	         "0x8007XXXX is also explained through the Windows code XXXX it wraps.\n\n"
	         "A RULE-ID (as triage and the database name them, msi.action-failed) is explained "
	         "from the catalogue: what its lines mean, the usual fix, and where the rule is "
	         "written.\n",
	.opts = opts,
	.args = CLI_COMP_CODES,
	.epilog = "Exit status: 0 every CODE was found, 1 some CODE is not in the table (each one "
	          "is named on stderr; the others are still explained), 2 usage error (an unknown "
	          "option, or an argument that is neither a number nor a rule id).\n",
	.run = run,
};
