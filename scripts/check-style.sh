#!/bin/sh
# scripts/check-style.sh: the mechanical rules of the C style guide
# (../shared/STYLE.md, section 2), checked over every C file of the tree;
# `make test` runs it first.  Exit 0 when clean, 1 with one line per
# violation (file:line: rule) otherwise.
#
# Checked: lines of at most 80 columns (tabs to the next multiple of 8);
# indentation with tabs (no run of 8 spaces, no space before a tab, at the
# start of a line); no trailing white space; no // comments; none of the
# banned calls strcpy, strcat, sprintf, vsprintf, gets, strtok, atoi, rand
# (outside comments and strings); no SQLite commit or rollback hook
# (sqlite3_commit_hook, sqlite3_rollback_hook: a change's audit record is
# an obligation passed to the store call, store/meta.h, never state armed
# aside for whichever commit comes next); in src/, struct cf_meta_audit
# named only by the store, src/core/core_int.h and src/core/monitor.c (an
# obligation is made from a decision by core_act_begin, nowhere else); no
# getenv() of a COFFER_TEST_ hook outside src/base/testhook.c (test hooks
# are compiled out of non-test builds).
# Not checkable here, so left to review:
# declarations aligned on tab stops, return types on their own line, plain
# memcmp on secrets.  clang-format cannot express the KNF declaration
# columns (.clang-format is an editor aid only; see its header).
set -eu
cd "$(dirname "$0")/.."
command -v perl >/dev/null 2>&1 || { echo "check-style: perl missing" >&2; exit 2; }

files=$(ls src/*.c src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c 2>/dev/null || true)
[ -n "$files" ] || { echo "check-style: no C files found" >&2; exit 2; }

# shellcheck disable=SC2086
perl -e '
use strict;
use warnings;
my $bad = 0;
sub report { my ($f, $n, $what) = @_; print "$f:$n: $what\n"; $bad++; }
for my $f (@ARGV) {
	open(my $fh, "<", $f) or die "check-style: $f: $!\n";
	local $/;
	my $text = <$fh>;
	close($fh);
	my @lines = split(/\n/, $text, -1);
	pop @lines if @lines && $lines[-1] eq "";
	my $n = 0;
	for my $l (@lines) {
		$n++;
		# Width with tabs expanded to the next multiple of 8.
		my $w = 0;
		for my $c (split(//, $l)) {
			$w = $c eq "\t" ? ($w + 8) - ($w % 8) : $w + 1;
		}
		report($f, $n, "longer than 80 columns ($w)") if $w > 80;
		report($f, $n, "trailing white space") if $l =~ /[ \t]+$/;
		report($f, $n, "indented with spaces") if $l =~ /^(?: {8}| +\t)/;
		# A test hook only through cf_test_hook(): compiled out of
		# every build but the test builds (base/testhook.h).
		report($f, $n, "getenv of a test hook: use cf_test_hook()")
		    if $f ne "src/base/testhook.c" &&
		    $l =~ /getenv\s*\(\s*"COFFER_TEST_/;
	}
	# Blank out comments and literals, keeping the line structure, then
	# look for // comments and banned calls in what is left (code).
	my $code = $text;
	$code =~ s{(/\*.*?\*/)|("(?:\\.|[^"\\\n])*")|(\x27(?:\\.|[^\x27\\\n])*\x27)|(//[^\n]*)}{
		defined $4 ? "\x01" : ($& =~ s/[^\n]//gr) }gse;
	$n = 0;
	my $obl = $f =~ m{^src/} && $f !~ m{^src/store/} &&
	    $f ne "src/core/core_int.h" && $f ne "src/core/monitor.c";
	for my $l (split(/\n/, $code, -1)) {
		$n++;
		while ($l =~ /\b(sqlite3_commit_hook|sqlite3_rollback_hook)\b/g) {
			report($f, $n, "$1: pass an audit obligation " .
			    "(store/meta.h)");
		}
		report($f, $n, "struct cf_meta_audit outside the store " .
		    "and the monitor: use core_act_begin()")
		    if $obl && $l =~ /\bstruct\s+cf_meta_audit\b/;
		report($f, $n, "// comment") if index($l, "\x01") >= 0;
		while ($l =~ /\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|rand)\s*\(/g) {
			report($f, $n, "banned call $1()");
		}
		# jansson 2.14 drops a failed write of an object key and
		# reports success: serialize with cf_json_dump (base/json.h).
		# The audit writer escapes single strings with a latched
		# callback of its own.
		if ($f ne "src/base/json.c" && $f ne "src/audit/record.c") {
			while ($l =~ /\b(json_dumps|json_dumpb|json_dumpf|json_dumpfd|json_dump_file|json_dump_callback)\s*\(/g) {
				report($f, $n, "$1(): use cf_json_dump()");
			}
		}
	}
}
exit($bad ? 1 : 0);
' $files || {
	echo "check-style: violations above (../shared/STYLE.md, section 2)" >&2
	exit 1
}
echo "check-style: $(echo "$files" | wc -w) files clean"
