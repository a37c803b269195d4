"""Errors of the experiment layer that the command line reports as bad input (exit 2)."""


class OutputExistsError(FileExistsError):
    """The output folder already holds results."""
