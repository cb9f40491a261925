"""Everything qrbench shows a person: Rich tables and progress. Only the CLI imports it."""
