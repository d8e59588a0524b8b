"""The SQL functions D1 lets a statement call (workerd's authorizer allowlist).

Derived from the engine, not from documentation: every function this machine's SQLite knows was
called through the pinned workerd's D1 (miniflare), and these are the ones it did not refuse with
"not authorized to use function". tests/d1/test_d1_agreement.py re-derives the verdicts from
workerd, so a toolchain upgrade that changes them fails loudly. Denied examples: sqlite_version(),
sqlite_source_id(), load_extension(), power(), log10(), ceiling(), subtype(), fts5().
"""

ALLOWED_FUNCTIONS = frozenset({
    "->", "->>", "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "avg",
    "bm25", "ceil", "changes", "char", "coalesce", "cos", "cosh", "count", "cume_dist",
    "current_date", "current_time", "current_timestamp", "date", "datetime", "degrees",
    "dense_rank", "exp", "first_value", "floor", "format", "fts3_tokenizer", "glob",
    "group_concat", "hex", "highlight", "ifnull", "iif", "instr", "json", "json_array",
    "json_array_length", "json_extract", "json_group_array", "json_group_object", "json_insert",
    "json_object", "json_patch", "json_quote", "json_remove", "json_replace", "json_set",
    "json_type", "json_valid", "julianday", "lag", "last_insert_rowid", "last_value", "lead",
    "length", "like", "likelihood", "likely", "ln", "log", "log2", "lower",
    "ltrim", "match", "matchinfo", "max", "min", "mod", "nth_value", "ntile", "nullif",
    "offsets", "optimize", "percent_rank", "pi", "pow", "printf", "quote", "radians", "random",
    "randomblob", "rank", "replace", "round", "row_number", "rtreecheck", "rtreedepth",
    "rtreenode", "rtrim", "sign", "sin", "sinh", "snippet", "soundex", "sqrt", "strftime",
    "substr", "substring", "sum", "tan", "tanh", "time", "total", "total_changes", "trim",
    "trunc", "typeof", "unicode", "unixepoch", "unlikely", "upper", "zeroblob"
})
