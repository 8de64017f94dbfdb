"""Allow ``python -m kg`` where the ``tradekg`` script is not on PATH."""

from kg.cli import cli

if __name__ == "__main__":
    cli()
