"""The one error the library raises for bad input a person can fix."""


class UserError(Exception):
    """Bad input a person can fix: shown as one line `error: ...`, exit code 1, no traceback."""


def short_reason(err: BaseException | str) -> str:
    """An exception's message cut to its first line, for a one-line error."""
    text = str(err).strip()
    return text.splitlines()[0][:160] if text else type(err).__name__


def remake_hint(command: str) -> str:
    """What to run when an artifact is missing, damaged or stale: 'run `make X` to remake it'."""
    return f"run `{command}` to remake it"
