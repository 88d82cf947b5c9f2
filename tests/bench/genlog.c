/* SPDX-License-Identifier: MIT */
/*
 * genlog: write a deterministic synthetic Windows Installer verbose log of about SIZE bytes.
 *
 *   genlog SIZE [utf8|utf16] [v3|msi20] > install.log     (SIZE in MB, or in KB with a k: 2k)
 *
 * SIZE counts the text: in UTF-16 the same lines take twice the bytes, so the two encodings of
 * one SIZE are the same log.
 *
 * The line mix follows real verbose logs: mostly engine bookkeeping and harmless notes
 * (2205/2228 lookups, 1402 registry notes, 2262 stream notes), property, component and feature
 * lines, `Executing op:` lines of the script phase, actions that start and end, and, rarely,
 * real errors (1722, 1920, Return value 3). CRLF line ends, like the engine writes them. The
 * same arguments always give the same bytes.
 *
 * `msi20` writes the other shape: a Windows Installer 2.0 log (Windows 2000 SP3/SP4), whose
 * engine lines carry no time of day (`MSI (s) (A4:B8): text`, the client's sometimes with a
 * space before the colon, `MSI (c) (29:28) : text`), and whose messages are nearly all
 * distinct: registry and file operations, component and feature states, property changes,
 * custom-action chatter with names, paths, GUIDs and numbers that change on every line, so
 * that few messages repeat and few start with a literal that decides them alone.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545F4914F6CDD1Dull;

static uint32_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}

static const char *const actions[] = {
	"CostInitialize",        "FileCost",
	"CostFinalize",          "InstallValidate",
	"InstallInitialize",     "ProcessComponents",
	"UnpublishFeatures",     "RemoveFiles",
	"InstallFiles",          "WriteRegistryValues",
	"RegisterTypeLibraries", "InstallServices",
	"StartServices",         "RegisterProduct",
	"PublishFeatures",       "PublishProduct",
	"InstallFinalize",
};
static const char *const props[] = {
	"INSTALLDIR", "ProductName",   "ALLUSERS",     "ROOTDRIVE",    "SourceDir",
	"TARGETDIR",  "CCMINSTALLDIR", "DBCONNECTION", "ComputerName", "VersionNT",
};
/* Tables the engine looks up (the 2205 notes): a few dominate, as in real logs. */
static const char *const tables[] = {
	"Error",
	"Error",
	"Error",
	"Error",
	"ActionText",
	"ActionText",
	"ListBox",
	"ComboBox",
	"Shortcut",
	"MsiAssembly",
	"Font",
	"Class",
	"TypeLib",
	"Extension",
	"RemoveFile",
	"IniFile",
	"MoveFile",
	"Patch",
	"PatchPackage",
	"Condition",
	"BindImage",
	"ServiceControl",
	"ServiceInstall",
	"Registry",
	"MsiLockPermissionsEx",
	"LockPermissions",
	"SelfReg",
	"Environment",
	"ODBCDriver",
	"DuplicateFile",
};
static const char *const words[] = {
	"Cisco",   "CallManager", "Database",       "Layer",     "Service",   "Directory",
	"Bin",     "Logs",        "Trace",          "TFTP",      "CTI",       "Manager",
	"Media",   "Streaming",   "Extended",       "Functions", "Alarm",     "Perfmon",
	"Tomcat",  "Admin",       "Serviceability", "RIS",       "Collector", "CDR",
	"Insert",  "Telephony",   "Messaging",      "Interface", "Attendant", "Console",
	"DirSync", "Cert",        "Provider",       "Monitor",   "Agent",
};

static bool utf16;
static bool msi20;
static unsigned char out[1 << 16];
static size_t outlen;
static uint64_t written;

static void flush(void)
{
	fwrite(out, 1, outlen, stdout);
	outlen = 0;
}

static void emit(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		if (outlen + 4 > sizeof(out))
			flush();
		out[outlen++] = (unsigned char)s[i];
		if (utf16)
			out[outlen++] = 0;
	}
	written += n;
}

static char line[1024];
static unsigned hh = 22, mm = 41, ss = 7, ms;

static void tick(void)
{
	ms += 1 + next() % 40;
	if (ms >= 1000) {
		ms -= 1000;
		if (++ss == 60) {
			ss = 0;
			if (++mm == 60) {
				mm = 0;
				hh = (hh + 1) % 24;
			}
		}
	}
}

static const char *word(void)
{
	return words[next() % (sizeof(words) / sizeof(words[0]))];
}

static void prefix(char side)
{
	tick();
	if (msi20) {
		/* The service has a few threads; the client sometimes writes ` : `. */
		static const char *const ids[] = { "A4:B8", "A4:3C", "A4:F0", "29:28", "29:6C" };
		unsigned k = side == 's' ? next() % 3 : 3 + next() % 2;
		snprintf(line, sizeof(line), "MSI (%c) (%s)%s: ", side, ids[k], k == 4 ? " " : "");
		emit(line);
		return;
	}
	snprintf(line, sizeof(line), "MSI (%c) (D8:%02X) [%02u:%02u:%02u:%03u]: ", side,
	         next() % 256, hh, mm, ss, ms);
	emit(line);
}

/* A hex identifier, as component keys, GUID parts and temporary names have. */
static const char *hex(unsigned digits)
{
	static char buf[4][40];
	static unsigned k;
	char *b = buf[k++ % 4];
	for (unsigned i = 0; i < digits; i++)
		b[i] = "0123456789ABCDEF"[next() % 16];
	b[digits] = '\0';
	return b;
}

static void one_line(unsigned long n)
{
	unsigned r = next() % 1000;
	const char *act = actions[n / 3000 % (sizeof(actions) / sizeof(actions[0]))];
	if (r < 220) {
		prefix('s');
		snprintf(line, sizeof(line), "Note: 1: 2205 2:  3: %s \r\n",
		         tables[next() % (sizeof(tables) / sizeof(tables[0]))]);
		emit(line);
	} else if (r < 300) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Note: 1: 2228 2:  3: Error 4: SELECT `Message` FROM `Error` WHERE "
		         "`Error` = "
		         "%u \r\n",
		         1700 + next() % 60);
		emit(line);
	} else if (r < 350) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Note: 1: 1402 2: "
		         "HKEY_LOCAL_MACHINE\\Software\\Classes\\Installer\\Products\\"
		         "%s\\SourceList 3: 2 \r\n",
		         hex(32));
		emit(line);
	} else if (r < 370) {
		prefix('s');
		snprintf(line, sizeof(line), "Note: 1: 2262 2: %s 3: -2147287038 \r\n",
		         tables[next() % (sizeof(tables) / sizeof(tables[0]))]);
		emit(line);
	} else if (r < 620) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Executing op: "
		         "FileCopy(SourceName=%s%u.dll,SourceCabKey=%s%s,DestName=%s%u.dll,"
		         "Attributes=512,FileSize=%u,PerTick=65536,,VerifyMedia=1,,,,,CheckCRC=0,,,"
		         "InstallMode=58982400,HashOptions=0,HashPart1=%d,HashPart2=%d,,)\r\n",
		         word(), next() % 100, word(), hex(8), word(), next() % 100,
		         next() % 900000, (int)next(), (int)next());
		emit(line);
	} else if (r < 700) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Component: C_%s%s; Installed: Absent;   Request: Local;   Action: "
		         "Local\r\n",
		         word(), hex(12));
		emit(line);
	} else if (r < 750) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "PROPERTY CHANGE: Adding %s%u property. Its value is 'C:\\Program "
		         "Files\\Cisco\\"
		         "%s\\%s\\'.\r\n",
		         props[next() % 10], next() % 50, word(), word());
		emit(line);
	} else if (r < 780) {
		prefix('s');
		snprintf(line, sizeof(line), "Doing action: %s\r\n", act);
		emit(line);
	} else if (r < 790) {
		tick();
		snprintf(line, sizeof(line), "Action start %u:%02u:%02u: %s.\r\n", hh, mm, ss, act);
		emit(line);
	} else if (r < 800) {
		tick();
		snprintf(line, sizeof(line), "Action ended %u:%02u:%02u: %s. Return value 1.\r\n",
		         hh, mm, ss, act);
		emit(line);
	} else if (r < 830) {
		prefix('c');
		snprintf(line, sizeof(line), "Machine policy value '%s%s' is 0\r\n", word(),
		         word());
		emit(line);
	} else if (r < 910) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "File: C:\\Program Files\\Cisco\\%s\\%s%s.dll;\tOverwrite;\tWon't patch;"
		         "\tExisting file is a lower version\r\n",
		         word(), word(), hex(4));
		emit(line);
	} else if (r < 960) {
		snprintf(line, sizeof(line),
		         "Property(S): %s%u = C:\\Program Files\\Cisco\\%s\\%s\\\r\n",
		         props[next() % 10], next() % 50, word(), hex(6));
		emit(line);
	} else if (r < 999) {
		prefix('s');
		snprintf(line, sizeof(line), "Resolving source to launched-from source %s %s.\r\n",
		         word(), word());
		emit(line);
	} else {
		/* Rare real trouble: one in a thousand lines is an error of some kind. */
		unsigned k = next() % 4;
		if (k == 0) {
			emit("Error 1920. Service Cisco CallManager (CallManager) failed to start. "
			     " Verify "
			     "that you have sufficient privileges to start system services.\r\n");
		} else if (k == 1) {
			emit("Error 1722. There is a problem with this Windows Installer package. "
			     "A program "
			     "run as part of the setup did not finish as expected. Contact your "
			     "support "
			     "personnel or package vendor.  Action DBInstall, location: "
			     "C:\\Program Files\\"
			     "Cisco\\Bin\\DBInstall.exe, command: -upgrade\r\n");
		} else if (k == 2) {
			tick();
			snprintf(line, sizeof(line),
			         "Action ended %u:%02u:%02u: %s. Return value 3.\r\n", hh, mm, ss,
			         act);
			emit(line);
		} else {
			prefix('s');
			emit("Info 1603. The file C:\\Program Files\\Cisco\\Bin\\ccm.exe is being "
			     "held in "
			     "use by the following process: Name: ccm, Id: 1234.\r\n");
		}
	}
}

static const char *guid(void)
{
	static char buf[2][48];
	static unsigned k;
	char *b = buf[k++ % 2];
	snprintf(b, 48, "{%s-%s-%s-%s-", hex(8), hex(4), hex(4), hex(4));
	strcat(b, hex(12));
	strcat(b, "}");
	return b;
}

/* One line of a Windows Installer 2.0 log: no time of day on engine lines, few repeats. */
static void one_line20(unsigned long n)
{
	unsigned r = next() % 1000;
	const char *act = actions[n / 2000 % (sizeof(actions) / sizeof(actions[0]))];
	const char *tab = tables[next() % (sizeof(tables) / sizeof(tables[0]))];
	if (r < 120) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Executing op: RegAddValue(Name=%s%s%u,Value=#%u,Attributes=%u)\r\n",
		         word(), word(), next() % 1000, next() % 100000, next() % 4);
	} else if (r < 200) {
		prefix('s');
		snprintf(
		        line, sizeof(line),
		        "Executing op: RegOpenKey(Root=-2147483646,Key=Software\\Cisco\\%s\\%s\\%s)"
		        "\r\n",
		        word(), word(), hex(6));
	} else if (r < 300) {
		prefix('s');
		snprintf(
		        line, sizeof(line),
		        "Executing op: FileCopy(SourceName=%s~%u.DLL|%s%s.dll,SourceCabKey=%s,"
		        "DestName=%s%s.dll,Attributes=%u,FileSize=%u,PerTick=32768,,VerifyMedia=1,,"
		        ",,,CheckCRC=0,Version=%u.%u.%u.%u,Language=1033,InstallMode=58982400,,,,,)"
		        "\r\n",
		        hex(6), next() % 9, word(), hex(4), hex(10), word(), hex(4), next() % 16384,
		        next() % 900000, next() % 10, next() % 10, next() % 3000, next() % 100);
	} else if (r < 360) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Executing op: ComponentRegister(ComponentId=%s,KeyPath=C:\\Program "
		         "Files\\Cisco\\%s\\%s%s.dll,State=3,,Disk=1,SharedDllRefCount=0,"
		         "BinaryType=0)\r\n",
		         guid(), word(), word(), hex(3));
	} else if (r < 440) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Component: %s%s%u; Installed: %s;   Request: Local;   Action: Local\r\n",
		         word(), word(), next() % 500, next() % 3 ? "Absent" : "Local");
	} else if (r < 470) {
		prefix('s');
		snprintf(
		        line, sizeof(line),
		        "Feature: %s%s%u; Installed: Absent;   Request: Local;   Action: Local\r\n",
		        word(), word(), next() % 100);
	} else if (r < 540) {
		prefix('c');
		snprintf(line, sizeof(line),
		         "PROPERTY CHANGE: Adding %s%s property. Its value is 'C:\\Program "
		         "Files\\Cisco\\%s\\%s%u\\'.\r\n",
		         props[next() % 10], hex(4), word(), word(), next() % 1000);
	} else if (r < 580) {
		prefix('s');
		snprintf(line, sizeof(line), "Note: 1: 2262 2: %s%s 3: -2147287038 \r\n", tab,
		         hex(3));
	} else if (r < 610) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Note: 1: 1402 2: HKEY_LOCAL_MACHINE\\Software\\Cisco\\%s\\%s 3: 2 \r\n",
		         word(), hex(16));
	} else if (r < 625) {
		/* The in-progress marker that is not there: noise, not a missing package. */
		prefix('s');
		snprintf(line, sizeof(line),
		         "Note: 1: 2203 2: C:\\WINNT\\Installer\\inprogressinstallinfo.ipi 3: "
		         "-2147287038 \r\n");
	} else if (r < 640) {
		prefix('s');
		snprintf(line, sizeof(line), "Note: 1: 2205 2:  3: %s \r\n", tab);
	} else if (r < 680) {
		prefix('s');
		snprintf(line, sizeof(line), "Skipping action: %s%s%u (condition is false)\r\n",
		         word(), word(), next() % 100);
	} else if (r < 700) {
		prefix('s');
		snprintf(line, sizeof(line), "Doing action: %s%s\r\n", act, n % 7 ? "" : "Ex");
	} else if (r < 710) {
		tick();
		snprintf(line, sizeof(line), "Action start %u:%02u:%02u: %s.\r\n", hh, mm, ss, act);
	} else if (r < 720) {
		tick();
		snprintf(line, sizeof(line), "Action ended %u:%02u:%02u: %s. Return value 1.\r\n",
		         hh, mm, ss, act);
	} else if (r < 750) {
		prefix('s');
		snprintf(line, sizeof(line), "Transforming table %s%s.\r\n", tab, hex(2));
	} else if (r < 790) {
		prefix('c');
		snprintf(line, sizeof(line), "Machine policy value '%s%s%u' is %u\r\n", word(),
		         word(), next() % 100, next() % 2);
	} else if (r < 850) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "File: C:\\Program Files\\Cisco\\%s\\%s%s.dll;\tOverwrite;\tWon't patch;"
		         "\tExisting file is of an equal version\r\n",
		         word(), word(), hex(5));
	} else if (r < 900) {
		snprintf(line, sizeof(line),
		         "Property(S): %s%s = C:\\Program Files\\Cisco\\%s\\%s\\\r\n",
		         props[next() % 10], hex(3), word(), hex(6));
	} else if (r < 930) {
		prefix('s');
		snprintf(line, sizeof(line),
		         "Allowing installation of component: %s even though a modified version "
		         "is installed.\r\n",
		         guid());
	} else if (r < 960) {
		/* Custom-action chatter: the DLL's own text, no engine prefix. */
		snprintf(line, sizeof(line), "%s%s: %s %s %u of %u (%s)\r\n", word(), word(),
		         word(), word(), next() % 100, 100 + next() % 900, hex(8));
	} else if (r < 999) {
		prefix('s');
		snprintf(line, sizeof(line), "Ignoring disallowed property %s%s\r\n",
		         props[next() % 10], hex(2));
	} else {
		unsigned k = next() % 3;
		if (k == 0)
			snprintf(line, sizeof(line),
			         "Error 1920. Service Cisco %s (%s) failed to start.  Verify that "
			         "you "
			         "have sufficient privileges to start system services.\r\n",
			         word(), word());
		else if (k == 1)
			snprintf(line, sizeof(line),
			         "Error 1722. There is a problem with this Windows Installer "
			         "package. A "
			         "program run as part of the setup did not finish as expected. "
			         "Contact "
			         "your support personnel or package vendor.  Action %s, location: "
			         "C:\\Program Files\\Cisco\\Bin\\%s.exe, command: -upgrade\r\n",
			         act, word());
		else {
			tick();
			snprintf(line, sizeof(line),
			         "Action ended %u:%02u:%02u: %s. Return value 3.\r\n", hh, mm, ss,
			         act);
		}
	}
	emit(line);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: genlog SIZE[k] [utf8|utf16] [v3|msi20]\n");
		return 2;
	}
	char *unit;
	uint64_t target = strtoull(argv[1], &unit, 10);
	target <<= *unit == 'k' || *unit == 'K' ? 10 : 20;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "utf16") == 0)
			utf16 = true;
		else if (strcmp(argv[i], "msi20") == 0)
			msi20 = true;
		else if (strcmp(argv[i], "utf8") != 0 && strcmp(argv[i], "v3") != 0) {
			fprintf(stderr, "genlog: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (utf16) {
		out[outlen++] = 0xFF;
		out[outlen++] = 0xFE;
	}
	if (msi20) {
		emit("=== Verbose logging started: 7/18/2003  22:41:07  Build type: SHIP UNICODE "
		     "2.00.2600.1183  Calling process: C:\\WINNT\\system32\\msiexec.exe ===\r\n");
		for (unsigned long n = 0; written < target; n++)
			one_line20(n);
		emit("MSI (c) (29:28) : MainEngineThread is returning 1603\r\n");
	} else {
		emit("=== Verbose logging started: 3/14/2005  22:41:07  Build type: SHIP UNICODE "
		     "3.01.4000.2435  Calling process: C:\\WINNT\\system32\\msiexec.exe ===\r\n");
		for (unsigned long n = 0; written < target; n++)
			one_line(n);
		emit("MSI (c) (9C:A4) [23:59:59:999]: MainEngineThread is returning 1603\r\n");
	}
	flush();
	return ferror(stdout) ? 1 : 0;
}
