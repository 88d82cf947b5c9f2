#!/bin/bash
# upglog merge against one scan of the same inputs: the real logs of ../shared/corpus (real and
# installshield) and fixtures/ cut into 20 shards (input i goes to shard i mod 20), each scanned
# into its own SQLite file; then one scan of every input, the merge of the 20 shards into a new
# database, and the same merge once more (every file already present). Prints times, database
# sizes and row counts. Usage: tests/bench/merge.sh [UPGLOG] (default build/upglog), from the
# source root. Needs sqlite3 (the command) for the VACUUM figures.
set -e
U=$(realpath "${1:-build/upglog}")
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
inputs=()
for f in ../shared/corpus/real/* ../shared/corpus/installshield/* fixtures/*; do
	case "$f" in *MANIFEST.tsv | *README | *expected.tsv | */tools) continue ;; esac
	[ -e "$f" ] && inputs+=("$(realpath "$f")")
done
n=${#inputs[@]}
echo "inputs: $n ($(du -shcL "${inputs[@]}" | tail -1 | cut -f1))"
for i in $(seq 0 19); do
	grp=()
	for ((j = i; j < n; j += 20)); do grp+=("${inputs[$j]}"); done
	[ ${#grp[@]} -gt 0 ] && { "$U" scan -q --jobs 1 --db "$B/shard$i.db" "${grp[@]}" || true; }
done
echo "shards: $(ls "$B"/shard*.db | wc -l) files, $(du -shc "$B"/shard*.db | tail -1 | cut -f1)"
secs() { echo "$2 - $1" | bc; }
s=$(date +%s.%N)
"$U" scan -q --jobs 1 --db "$B/single.db" "${inputs[@]}" || true
e=$(date +%s.%N)
echo "one scan of every input (--jobs 1): $(secs "$s" "$e") s, $(stat -c %s "$B/single.db") bytes"
s=$(date +%s.%N)
"$U" merge -q --db "$B/merged.db" "$B"/shard*.db || true
e=$(date +%s.%N)
echo "merge of the shards: $(secs "$s" "$e") s, $(stat -c %s "$B/merged.db") bytes"
s=$(date +%s.%N)
"$U" merge -q --db "$B/merged.db" "$B"/shard*.db || true
e=$(date +%s.%N)
echo "the same shards again (all present): $(secs "$s" "$e") s, $(stat -c %s "$B/merged.db") bytes"
q="SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM findings),"
q="$q (SELECT count(*) FROM rule_hits), (SELECT count(*) FROM servers), (SELECT count(*) FROM scans)"
for db in single merged; do
	echo "$db: files findings rule_hits servers scans = $(sqlite3 -separator ' ' "$B/$db.db" "$q")"
	sqlite3 "$B/$db.db" VACUUM
	echo "$db after VACUUM: $(stat -c %s "$B/$db.db") bytes"
done
