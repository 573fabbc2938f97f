"""One module per command; cli.Group imports only the one being run."""
