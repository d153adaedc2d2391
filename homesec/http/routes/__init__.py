"""Route handlers: thin, each one validates its input, calls a query and returns a struct."""
