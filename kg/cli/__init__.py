"""The ``tradekg`` command: a thin layer over the library.

Exit codes (DESIGN.md): 0 ok, 1 the data does not conform or a check failed,
2 usage or input error. Errors go to stderr in one or two plain lines.

May import: basics, graph, loaders, checks, answers, pipeline, sources, monitor, export, serve, api.
The group is here; what the commands share is in ``common``; one module per job adds its commands.
"""

from __future__ import annotations

import click

from kg import __version__
from kg.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="tradekg")
def cli() -> None:
    """tradekg: a knowledge graph of technology-trade restrictions.

    \b
    Build the graph from the curated CSV facts, then ask it:
      tradekg build
      tradekg query rules-affecting-firm -p firm=Huawei
      tradekg query --list
      tradekg show "Huawei Technologies Co., Ltd."
    """


def _register() -> None:
    """Add each command module's commands; one module per job (kg/cli/*.py)."""
    from kg.cli import csl as csl_commands
    from kg.cli import export as export_commands
    from kg.cli import history as history_commands
    from kg.cli import load as load_commands
    from kg.cli import monitor as monitor_commands
    from kg.cli import push as push_commands
    from kg.cli import query as query_commands
    from kg.cli import screen as screen_commands
    from kg.cli import serve as serve_commands
    from kg.cli import sources as _sources  # noqa: F401  (adds `import federal-register` and `import ofac`)

    for command in (load_commands.build, load_commands.load, load_commands.validate,
                    query_commands.query, query_commands.sparql, query_commands.show,
                    export_commands.export, push_commands.push, csl_commands.import_group,
                    screen_commands.screen, serve_commands.serve, history_commands.history,
                    history_commands.rollback, history_commands.check, monitor_commands.update,
                    monitor_commands.sources_command,
                    monitor_commands.changes, monitor_commands.watch, monitor_commands.evidence):
        cli.add_command(command)


_register()
