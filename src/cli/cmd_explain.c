/* SPDX-License-Identifier: MIT */
/* upglog explain: what an error code means, how bad it usually is, and the usual fix. */
#include <string.h>

#include "cli.h"
#include "upglog/explain.h"
#include "upglog/report.h"

static const char usage[] =
        "usage: upglog explain [--format text|json] CODE...\n"
        "\n"
        "Explain error codes met in Windows Installer upgrade logs, from the table built into\n"
        "upglog: what each code means, how serious it usually is (noise, info, warning, error,\n"
        "catastrophic) and the usual fix. One number can mean different things as an msiexec\n"
        "exit code, a Windows Installer message (Error/Info/Note N), an action return value,\n"
        "a Windows system error, an HRESULT, an InstallShield setup result code or a message\n"
        "of InstallShield's setup.exe launcher (is-launcher; its numbers collide with\n"
        "Windows Installer's): every match is shown, most specific first.\n"
        "\n"
        "CODE is decimal (1603), negative decimal as MSI writes HRESULTs (-2147287038) or hex\n"
        "(0x80070643). An HRESULT is split into facility and code; one of the form 0x8007XXXX\n"
        "is also explained through the Windows code XXXX it wraps.\n"
        "\n"
        "  --format FMT  text (default), or json: one array of objects with the keys query,\n"
        "                space, code, name, severity, meaning and fix\n"
        "  --help        this text\n"
        "\n"
        "Exit status: 0 every CODE was found, 1 some CODE is not in the table (each one is\n"
        "named on stderr; the others are still explained), 2 usage error (an unknown option\n"
        "or a CODE that is not a number).\n";

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

/* A negative number is a CODE, not an option. */
static bool is_negative_number(const char *arg)
{
	return arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	enum { FORMAT = 1 };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	enum format fmt = TEXT;
	int c;
	while (optind < argc && !is_negative_number(argv[optind]) &&
	       (c = cli_getopt(argc, argv, "+", opts, &cli_cmd_explain, io)) != -1) {
		if (c != FORMAT)
			return UL_EXIT_USAGE;
		if (strcmp(optarg, "text") == 0)
			fmt = TEXT;
		else if (strcmp(optarg, "json") == 0)
			fmt = JSON;
		else
			return cli_usage_error(io, &cli_cmd_explain,
			                       "--format takes 'text' or 'json', not '%s'", optarg);
	}
	if (optind >= argc)
		return cli_usage_error(io, &cli_cmd_explain, "no CODE given");
	for (int i = optind; i < argc; i++) {
		long long v;
		if (!ul_explain_parse(argv[i], &v))
			return cli_usage_error(
			        io, &cli_cmd_explain,
			        "'%s' is not a code: give decimal, -decimal or 0xHEX", argv[i]);
	}
	size_t printed = 0;
	bool all_found = true;
	if (fmt == JSON)
		fputc('[', io->out);
	for (int i = optind; i < argc; i++)
		all_found &= explain(io, fmt, argv[i], &printed);
	if (fmt == JSON)
		fputs(printed ? "\n]\n" : "]\n", io->out);
	return all_found ? UL_EXIT_OK : UL_EXIT_FAILURE;
}

const struct cli_cmd cli_cmd_explain = {
	.name = "explain",
	.summary = "explain an MSI, Windows or setup error code",
	.usage = usage,
	.run = run,
};
