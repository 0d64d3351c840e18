"""`python -m sim.sensitivity`: the same as the `sim-sensitivity` command."""

from sim.sensitivity.app import main

main()
