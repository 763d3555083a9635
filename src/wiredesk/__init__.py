"""wiredesk: agency copy in, a live news site out."""

__version__ = "0.1.0"
