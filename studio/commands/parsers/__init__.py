"""The ``studio`` subcommands' arguments, one module per group of commands.

Each module has ``add_parsers(sub)``, which adds its subcommands and sets ``handler`` to the
``"module:function"`` that runs each one; :mod:`studio.cli` imports the handler only when its
command runs. Only :mod:`argparse` here: ``studio --help`` must stay fast and Textual-free.
"""
