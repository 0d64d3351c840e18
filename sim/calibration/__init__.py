"""Calibration of the mechanism parameters against the reported figures (`sim-calibrate`).

config (what is free, how to search) -> space (checked parameters) -> objective (runs ->
figures -> loss) -> optuna_search / abc_search -> pipeline (ensembles, hold-out, report).
"""
