"""The archive as a data lake: ``wizwatch query`` (SQL, DuckDB) and ``wizwatch replay`` (rules)."""
