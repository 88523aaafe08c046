/*
 * The store's ceiling for the SQLite benchmarks: the guarded upsert alone, with every value
 * already typed in memory. No reading, parsing, casting or validation: what one SQLite writer
 * does on this machine with Runnel's settings, so that a loader's rate can be read as a fraction
 * of it (as kafka_ceiling.c does for the broker).
 *
 *     cc -O2 -o sqlite_ceiling sqlite_ceiling.c -lsqlite3
 *     sqlite_ceiling SOURCE_DB TARGET_DB TABLE BATCH ROWS_PER_STATEMENT 'CREATE TABLE …' 'UPSERT …'
 *
 * SOURCE_DB's TABLE holds the rows as a Runnel run stored them (the same types and text, so
 * the same values are bound); they are read in rowid order before the clock starts. TARGET_DB
 * is created with the given table and opened as Runnel's SQLite connection opens it (WAL,
 * synchronous FULL, a 16 MiB page cache). Then, timed: per BATCH rows, BEGIN IMMEDIATE, the
 * checkpoint read that verifies the commit, the upserts, the checkpoint upsert, COMMIT.
 *
 * The upsert is given as SQL for one row, "INSERT INTO t (…) VALUES (?, …) ON CONFLICT …". With
 * ROWS_PER_STATEMENT k > 1 its VALUES list is repeated k times ("VALUES (…), (…), …"): one
 * statement step writes k rows (SQLite inserts them one after another, each under the guard), and
 * a batch's last rows go through the one-row statement. Text is bound SQLITE_STATIC, as Runnel
 * binds it.
 *
 * Prints "ROWS SECONDS RATE" on stdout and a readable line on stderr; exits 1 with SQLite's
 * message on any error.
 */
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, message ? message : "error");
        exit(1);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The one-row SQL with its VALUES list repeated k times. */
static char *repeat_values(const char *sql, int k) {
    const char *values = strstr(sql, "VALUES (");
    if (!values) return NULL;
    const char *open = values + strlen("VALUES ");
    const char *close = strchr(open, ')');
    if (!close) return NULL;
    size_t head = (size_t)(open - sql), tuple = (size_t)(close + 1 - open), tail = strlen(close + 1);
    char *out = malloc(head + (tuple + 2) * (size_t)k + tail + 1);
    if (!out) return NULL;
    char *p = out;
    memcpy(p, sql, head), p += head;
    for (int i = 0; i < k; i++) {
        if (i) *p++ = ',', *p++ = ' ';
        memcpy(p, open, tuple), p += tuple;
    }
    memcpy(p, close + 1, tail + 1);
    return out;
}

static void bind_row(sqlite3_stmt *s, sqlite3_value **row, int columns, int first) {
    for (int c = 0; c < columns; c++) {
        sqlite3_value *v = row[c];
        int at = first + c;
        switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER: sqlite3_bind_int64(s, at, sqlite3_value_int64(v)); break;
        case SQLITE_FLOAT: sqlite3_bind_double(s, at, sqlite3_value_double(v)); break;
        case SQLITE_TEXT:
            sqlite3_bind_text(s, at, (const char *)sqlite3_value_text(v), sqlite3_value_bytes(v), SQLITE_STATIC);
            break;
        case SQLITE_BLOB: sqlite3_bind_blob(s, at, sqlite3_value_blob(v), sqlite3_value_bytes(v), SQLITE_STATIC); break;
        default: sqlite3_bind_null(s, at);
        }
    }
}

/* The timed part (a function of its own, so that callgrind can count it alone:
 * --collect-atstart=no --toggle-collect=load). */
static void __attribute__((noinline)) load(sqlite3 *db, sqlite3_value **values, long rows, int columns, long batch, int k,
                                           sqlite3_stmt *one, sqlite3_stmt *many, sqlite3_stmt *verify, sqlite3_stmt *checkpoint) {
    for (long first = 0; first < rows; first += batch) {
        long end = first + batch < rows ? first + batch : rows;
        exec(db, "BEGIN IMMEDIATE");
        sqlite3_bind_text(verify, 1, "ceiling", -1, SQLITE_STATIC);
        while (sqlite3_step(verify) == SQLITE_ROW) {}
        sqlite3_reset(verify);
        long r = first;
        for (; many && r + k <= end; r += k) {
            for (int i = 0; i < k; i++) bind_row(many, values + (r + i) * columns, columns, 1 + i * columns);
            if (sqlite3_step(many) != SQLITE_DONE) fail(db, "upsert");
            sqlite3_reset(many);
        }
        for (; r < end; r++) {
            bind_row(one, values + r * columns, columns, 1);
            if (sqlite3_step(one) != SQLITE_DONE) fail(db, "upsert");
            sqlite3_reset(one);
        }
        char position[32];
        snprintf(position, sizeof position, "%ld", end);
        sqlite3_bind_text(checkpoint, 1, "ceiling", -1, SQLITE_STATIC);
        sqlite3_bind_text(checkpoint, 2, position, -1, SQLITE_STATIC);
        sqlite3_bind_text(checkpoint, 3, "2026-01-01T00:00:00Z", -1, SQLITE_STATIC);
        if (sqlite3_step(checkpoint) != SQLITE_DONE) fail(db, "checkpoint");
        sqlite3_reset(checkpoint);
        exec(db, "COMMIT");
    }
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: sqlite_ceiling SOURCE_DB TARGET_DB TABLE BATCH ROWS_PER_STATEMENT CREATE_SQL UPSERT_SQL\n");
        return 2;
    }
    const char *source = argv[1], *target = argv[2], *table = argv[3], *create = argv[6], *upsert = argv[7];
    long batch = atol(argv[4]);
    int k = atoi(argv[5]);
    if (batch < 1 || k < 1) {
        fprintf(stderr, "sqlite_ceiling: BATCH and ROWS_PER_STATEMENT must be at least 1\n");
        return 2;
    }

    /* The rows, typed, in the order they were stored. */
    sqlite3 *src;
    if (sqlite3_open_v2(source, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) fail(src, source);
    char select[512];
    snprintf(select, sizeof select, "SELECT * FROM \"%s\" ORDER BY rowid", table);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(src, select, -1, &q, NULL) != SQLITE_OK) fail(src, select);
    int columns = sqlite3_column_count(q);
    long rows = 0, capacity = 1 << 16;
    sqlite3_value **values = malloc(sizeof *values * (size_t)capacity * (size_t)columns);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (rows == capacity) {
            capacity *= 2;
            values = realloc(values, sizeof *values * (size_t)capacity * (size_t)columns);
        }
        if (!values) fail(NULL, "rows");
        for (int c = 0; c < columns; c++) values[rows * columns + c] = sqlite3_value_dup(sqlite3_column_value(q, c));
        rows++;
    }
    if (rc != SQLITE_DONE) fail(src, select);
    sqlite3_finalize(q);

    /* The target, opened as SQLiteConnection opens it. */
    sqlite3 *db;
    if (sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) fail(db, target);
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=FULL");
    exec(db, "PRAGMA cache_size=-16384");
    exec(db, create);
    exec(db, "CREATE TABLE IF NOT EXISTS runnel_checkpoints (pipeline TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at TEXT NOT NULL)");
    sqlite3_stmt *one, *many = NULL, *verify, *checkpoint;
    if (sqlite3_prepare_v2(db, upsert, -1, &one, NULL) != SQLITE_OK) fail(db, upsert);
    if (k > 1) {
        char *sql = repeat_values(upsert, k);
        if (!sql) fail(NULL, "the upsert has no VALUES (…) to repeat");
        if (sqlite3_prepare_v2(db, sql, -1, &many, NULL) != SQLITE_OK) fail(db, "the multi-row upsert");
        free(sql);
    }
    if (sqlite3_prepare_v2(db, "SELECT position FROM runnel_checkpoints WHERE pipeline = ?", -1, &verify, NULL) != SQLITE_OK) fail(db, "verify");
    if (sqlite3_prepare_v2(db, "INSERT INTO runnel_checkpoints (pipeline, position, updated_at) VALUES (?, ?, ?) "
                               "ON CONFLICT (pipeline) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                           -1, &checkpoint, NULL) != SQLITE_OK)
        fail(db, "checkpoint");

    double started = now();
    load(db, values, rows, columns, batch, k, one, many, verify, checkpoint);
    double seconds = now() - started;
    printf("%ld %.3f %.0f\n", rows, seconds, rows / seconds);
    fprintf(stderr, "sqlite ceiling: %ld rows in %.2f s, %.0f rows/s (%d per statement)\n", rows, seconds, rows / seconds, k);
    return 0;
}

