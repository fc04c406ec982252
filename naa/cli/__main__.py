"""``python -m naa.cli``: the ``naa`` command, for launchers that start a module: ``accelerate launch -m``."""

from naa.cli import main

main()
