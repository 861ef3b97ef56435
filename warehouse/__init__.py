"""The warehouse side of the project: where the PostgreSQL warehouse is, and the embedded one `make demo` starts."""
