"""``python -m analytics_hub.cli`` runs the command line."""

from analytics_hub.cli.main import main

main()
