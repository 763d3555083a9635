"""What a deployment configures: Django's settings (from the environment) and its sources."""
