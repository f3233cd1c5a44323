"""`python -m attractor` runs the CLI."""

from attractor.cli import main

main()
