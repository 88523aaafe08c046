# shellcheck shell=bash
# Sourced by the SQLite benchmarks: the store's ceiling (sqlite_ceiling.c), the guarded upsert
# alone over the rows a Runnel run stored, so that the run can be read as a fraction of what one
# SQLite writer does here.
#
#   sqlite_ceiling_build WORK                  compiles WORK/sqlite_ceiling (cc, libsqlite3-dev)
#   sqlite_upsert_sql TABLE KEY VERSION COL…   the one-row upsert SQLiteLoader.upsertSQL builds
#   sqlite_ceiling WORK SOURCE_DB TABLE BATCH ROWS_PER_STATEMENT CREATE_SQL UPSERT_SQL
#                                              prints "ROWS SECONDS RATE"

sqlite_ceiling_build() {
    local work="$1"
    [ -f /usr/include/sqlite3.h ] || { apt-get install -y libsqlite3-dev >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y libsqlite3-dev >/dev/null; }; }
    cc -O2 -o "$work/sqlite_ceiling" "$(dirname "${BASH_SOURCE[0]}")/sqlite_ceiling.c" -lsqlite3
}

# SQLiteText.sortable: a timestamp Runnel wrote, in any fraction width, as text that sorts as time.
_sqlite_sortable() {
    local x="$1" civil='[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
    printf "%s" "(CASE WHEN typeof($x) = 'text' AND substr($x, 1, 19) GLOB '$civil' AND $x GLOB '*Z' THEN "
    printf "%s" "(CASE WHEN length($x) = 20 THEN substr($x, 1, 19) || '.000000Z' "
    printf "%s" "WHEN substr($x, 20, 1) = '.' AND length($x) <= 27 THEN substr(substr($x, 1, length($x) - 1) || '000000', 1, 26) || 'Z' "
    printf "%s" "ELSE $x END) ELSE $x END)"
}

# Kept in step with SQLiteLoader.upsertSQL (one key column; names without double quotes).
sqlite_upsert_sql() {
    local table="$1" key="$2" version="$3"
    shift 3
    local cols="" params="" updates="" c
    for c in "$@"; do
        cols+="${cols:+, }\"$c\""
        params+="${params:+, }?"
        [ "$c" = "$key" ] || updates+="${updates:+, }\"$c\" = excluded.\"$c\""
    done
    printf "%s" "INSERT INTO \"$table\" ($cols) VALUES ($params) ON CONFLICT (\"$key\") DO UPDATE SET $updates"
    [ -z "$version" ] || printf "%s" " WHERE \"$table\".\"$version\" IS NULL OR $(_sqlite_sortable "excluded.\"$version\"") >= $(_sqlite_sortable "\"$table\".\"$version\"")"
}

sqlite_ceiling() {
    local work="$1" source="$2" table="$3" batch="$4" k="$5" create="$6" upsert="$7"
    rm -f "$work/ceiling.db" "$work/ceiling.db-wal" "$work/ceiling.db-shm"
    "$work/sqlite_ceiling" "$source" "$work/ceiling.db" "$table" "$batch" "$k" "$create" "$upsert" 2>/dev/null
    rm -f "$work/ceiling.db" "$work/ceiling.db-wal" "$work/ceiling.db-shm"
}
