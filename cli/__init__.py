"""The `spark-agents` commands: a front end beside ui/, each command a client of the resident service
(`api.client`) or of a library's read-only helpers. `cli.main` is the entry point; each module adds one group."""
