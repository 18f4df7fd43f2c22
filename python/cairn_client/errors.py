"""Errors of the trainer and evaluator commands that need no PyTorch to name (so `register`,
`keygen` and error handling work in an environment without torch)."""


class TrainerError(Exception):
    """A condition the trainer cannot go on from, with what to do about it."""
