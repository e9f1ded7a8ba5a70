"""Commands for admins: check, simulate, graph, schema, test."""
