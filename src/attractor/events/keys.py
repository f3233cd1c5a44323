"""Events layer (I/O): the log key — where it comes from and which logs it may guard.

Rules:
- The key is configured, never recorded: `ATTRACTOR_LOG_KEY` holds it (text), or
  `ATTRACTOR_LOG_KEY_FILE` names a file holding it (its bytes, a trailing newline dropped).
  Setting both, a key shorter than 16 bytes, or an unreadable key file is a `LogKeyError`.
- A key file inside the run directory of the log it guards protects nothing (whoever can edit
  the log can read the key): refused.
- The key is registered as a secret (`attractor.events.secrets`), so it is scrubbed from every
  recorded result, and commands never inherit the two variables.
- Readers and writers take `key=FROM_ENV` (the default: whatever the environment configures,
  checked against the log's directory), `None` (no key) or the raw key bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from attractor.events._codec import derive_key
from attractor.events._errors import LogKeyError
from attractor.events.secrets import register_secret

KEY_VAR: Final = "ATTRACTOR_LOG_KEY"
KEY_FILE_VAR: Final = "ATTRACTOR_LOG_KEY_FILE"
MIN_KEY_BYTES: Final = 16


class _FromEnv:
    """The `key=` default: the key the environment configures, if any."""

    def __repr__(self) -> str:
        return "FROM_ENV"


FROM_ENV: Final = _FromEnv()
KeyArg = bytes | None | _FromEnv


def configured_key(
    env: Mapping[str, str] | None = None, log_dir: Path | None = None
) -> bytes | None:
    """The raw log key the environment configures, or None; `LogKeyError` when misconfigured.

    Args:
        env: the variables to read (default: `os.environ`).
        log_dir: the directory of the log the key will guard; a key file inside it is refused.
    """
    source = os.environ if env is None else env
    text, file = source.get(KEY_VAR, ""), source.get(KEY_FILE_VAR, "")
    if text and file:
        raise LogKeyError(KEY_VAR, f"both {KEY_VAR} and {KEY_FILE_VAR} are set", hint="keep one")
    if file:
        raw = _read_key_file(Path(file), log_dir)
    elif text:
        raw = text.encode()
    else:
        return None
    if len(raw) < MIN_KEY_BYTES:
        where = KEY_FILE_VAR if file else KEY_VAR
        raise LogKeyError(
            where,
            f"the log key has {len(raw)} bytes; at least {MIN_KEY_BYTES} are needed",
            hint="e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    register_secret(raw.decode("utf-8", "replace"))
    return raw


def _read_key_file(file: Path, log_dir: Path | None) -> bytes:
    if log_dir is not None and _inside(file, log_dir):
        raise LogKeyError(
            str(file),
            f"the key file is inside the run directory {log_dir}: anyone who can edit the log "
            "can read the key",
            hint="keep the key file outside every run directory",
        )
    try:
        return file.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise LogKeyError(str(file), f"cannot read the key file: {exc.strerror}") from None


def _inside(file: Path, directory: Path) -> bool:
    try:
        file.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def resolve_key(key: KeyArg, log_path: Path) -> bytes | None:
    """The derived BLAKE2b key for a log at `log_path` (or None for the plain chain)."""
    raw = configured_key(log_dir=log_path.parent) if isinstance(key, _FromEnv) else key
    return None if raw is None else derive_key(raw)
