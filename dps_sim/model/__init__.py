"""The simulation model: pure, importing nothing from experiment, report or CLI code."""

from .engine import RunOutput, Simulation, simulate

__all__ = ["RunOutput", "Simulation", "simulate"]
