#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: a typed wrapper for the one option used.
static inline int sqlite3_config_memstatus(int on) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on); }
