"""The desk: deliveries become stories (pipeline), operators act on them (actions), sources' health
is kept (health), and the background tasks that call them (tasks)."""
