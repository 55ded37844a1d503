"""One module per sodav-agent subcommand."""
