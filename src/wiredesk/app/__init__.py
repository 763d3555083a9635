"""The application around the rooms: the command line, the processes `wiredesk run` starts,
the URL map and the web server's entry point."""
