"""``python -m publisher`` runs the command-line interface."""

from publisher.cli import cli

if __name__ == "__main__":
    cli()
