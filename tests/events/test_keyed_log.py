"""The keyed chain (issue 8, point 3): with a log key every line carries a MAC, and a log
re-hashed without the key is rejected at its first bad line; without a key nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.effects import Recording, ReplayStore
from attractor.events import (
    EventLog,
    LogCorruptError,
    LogError,
    LogKeyError,
    chain_hash,
    configured_key,
    read_log,
    verify_log,
)
from attractor.events.secrets import registered_secrets
from attractor.testing.machines import ScriptNoted

KEY = b"k" * 8 + b"-test-log-key-31"
_PLAIN = len(',"hash":"') + 16 + len('"}')
_KEYED = len(',"mac":"') + 16 + len('"}')


def _write(path: Path, n: int, key: bytes | None = KEY) -> list[bytes]:
    with EventLog.open(path, key=key, fsync=False) as log:
        log.append([("run", ScriptNoted(step=i, note=f"note {i}")) for i in range(n)])
    return path.read_bytes().splitlines()


def _rehash_plain(path: Path, edit_line: int | None = None) -> None:
    """What an attacker without the key can do: edit a line, re-chain with plain hashes."""
    prev, out = "", []
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        cut = _KEYED if raw.endswith(b'"}') and b',"mac":"' in raw[-_KEYED:] else _PLAIN
        body = raw[:-cut]
        if n == edit_line:
            body = body.replace(b"note ", b"NOTE ")
        prev = chain_hash(prev, body)
        out.append(body + b',"hash":"' + prev.encode() + b'"}')
    path.write_bytes(b"\n".join(out) + b"\n")


def test_keyed_lines_carry_a_mac_and_verify(tmp_path: Path) -> None:
    """Every keyed line ends with a `mac` field; the log verifies with the key."""
    lines = _write(tmp_path / "events.jsonl", 4)
    assert all(b',"mac":"' in line and b'"hash"' not in line for line in lines)
    assert verify_log(tmp_path / "events.jsonl", key=KEY).count == 4


def test_unkeyed_format_is_unchanged(tmp_path: Path) -> None:
    """Without a key the lines are the plain BLAKE2b chain, byte for byte as before."""
    lines = _write(tmp_path / "events.jsonl", 3, key=None)
    prev = ""
    for line in lines:
        body, digest = line[:-_PLAIN], line[-18:-2].decode()
        assert line[-_PLAIN:].startswith(b',"hash":"')
        prev = chain_hash(prev, body)
        assert digest == prev


def test_rehashed_keyed_log_is_rejected_at_line_one(tmp_path: Path) -> None:
    """A keyed log re-chained with plain hashes fails verification with the key, at line 1."""
    path = tmp_path / "events.jsonl"
    _write(path, 5)
    _rehash_plain(path, edit_line=3)
    assert verify_log(path, key=None).count == 5  # the plain chain is self-consistent…
    with pytest.raises(LogCorruptError) as err:
        verify_log(path, key=KEY)  # …but the key proves it was not written with it
    assert err.value.line == 1
    assert "not keyed" in err.value.reason


def test_edited_line_breaks_the_mac_chain_there(tmp_path: Path) -> None:
    """Editing line 3 of a keyed log (keeping its MAC) is caught at line 3."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 5)
    lines[2] = lines[2].replace(b"note 2", b"note X")
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(LogCorruptError) as err:
        verify_log(path, key=KEY)
    assert err.value.line == 3
    assert "MAC chain broken" in err.value.reason


def test_wrong_key_is_rejected(tmp_path: Path) -> None:
    """Another key does not verify the log: the first line is named."""
    path = tmp_path / "events.jsonl"
    _write(path, 2)
    with pytest.raises(LogCorruptError) as err:
        verify_log(path, key=b"another-key-of-enough-bytes")
    assert err.value.line == 1


def test_keyed_log_without_the_key_says_so(tmp_path: Path) -> None:
    """Reading a keyed log with no key is a LogKeyError that says to set the key."""
    path = tmp_path / "events.jsonl"
    _write(path, 2)
    with pytest.raises(LogKeyError, match="keyed") as err:
        list(read_log(path, key=None))
    assert "ATTRACTOR_LOG_KEY" in err.value.hint


def test_writer_never_mixes_the_two_chains(tmp_path: Path) -> None:
    """Appending with a key to a plain log, or without it to a keyed one, is refused."""
    plain, keyed = tmp_path / "plain.jsonl", tmp_path / "keyed.jsonl"
    _write(plain, 2, key=None)
    _write(keyed, 2)
    with pytest.raises(LogCorruptError, match="mix two chains"):
        EventLog.open(plain, key=KEY)
    with pytest.raises(LogKeyError):
        EventLog.open(keyed, key=None)


def test_keyed_log_reopens_and_continues(tmp_path: Path) -> None:
    """A keyed log reopened with its key continues the MAC chain."""
    path = tmp_path / "events.jsonl"
    _write(path, 2)
    with EventLog.open(path, key=KEY, fsync=False) as log:
        log.append([("run", ScriptNoted(step=9, note=""))])
    assert verify_log(path, key=KEY).count == 3


def test_keyed_recording_replays_byte_for_byte(tmp_path: Path) -> None:
    """Replay re-encodes keyed lines identically (its store chains with the recording's key)."""
    path = tmp_path / "events.jsonl"
    _write(path, 3)
    rec = Recording.from_file(path, key=KEY)
    store = ReplayStore(rec)
    for i in range(3):
        store.append([("run", ScriptNoted(step=i, note=f"note {i}"))])
    assert (store.identical, store.reencoded) == (3, 0)


def test_key_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """By default readers and writers use ATTRACTOR_LOG_KEY; the key becomes a secret."""
    monkeypatch.setenv("ATTRACTOR_LOG_KEY", KEY.decode())
    path = tmp_path / "events.jsonl"
    with EventLog.open(path, fsync=False) as log:
        log.append([("run", ScriptNoted(step=1, note=""))])
    assert b',"mac":"' in path.read_bytes()
    assert verify_log(path).count == 1
    assert KEY.decode() in registered_secrets()


def test_key_file_outside_the_run_dir(tmp_path: Path) -> None:
    """ATTRACTOR_LOG_KEY_FILE names a file whose bytes (no trailing newline) are the key."""
    key_file = tmp_path / "log.key"
    key_file.write_bytes(KEY + b"\n")
    env = {"ATTRACTOR_LOG_KEY_FILE": str(key_file)}
    assert configured_key(env, log_dir=tmp_path / "runs" / "r1") == KEY


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"ATTRACTOR_LOG_KEY": "short"}, "at least 16"),
        ({"ATTRACTOR_LOG_KEY": KEY.decode(), "ATTRACTOR_LOG_KEY_FILE": "/x"}, "both"),
        ({"ATTRACTOR_LOG_KEY_FILE": "/nonexistent/key"}, "cannot read"),
    ],
)
def test_misconfigured_keys_are_typed_errors(env: dict[str, str], match: str) -> None:
    """A short key, both variables, or an unreadable file: LogKeyError with a reason."""
    with pytest.raises(LogKeyError, match=match):
        configured_key(env)


def test_key_file_inside_the_run_dir_is_refused(tmp_path: Path) -> None:
    """A key beside the log it guards protects nothing: refused."""
    run_dir = tmp_path / "r1"
    run_dir.mkdir()
    (run_dir / "key").write_bytes(KEY)
    with pytest.raises(LogKeyError, match="inside the run directory"):
        configured_key({"ATTRACTOR_LOG_KEY_FILE": str(run_dir / "key")}, log_dir=run_dir)


def test_keyed_line_is_still_one_json_object(tmp_path: Path) -> None:
    """A keyed line is plain JSON Lines: any JSON reader sees the event and its `mac`."""
    (line,) = _write(tmp_path / "events.jsonl", 1)
    data = json.loads(line)
    assert set(data) >= {"seq", "at", "stream", "type", "mac"}


@given(data=st.data())
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_byte_edit_of_a_keyed_log_is_caught_at_its_line(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Changing any one byte of a keyed log makes verification fail at that line or before."""
    path = tmp_path / "events.jsonl"
    path.unlink(missing_ok=True)
    lines = _write(path, 4)
    raw = bytearray(path.read_bytes())
    # every byte but the final newline (without it the last line reads as torn: ADR 0101)
    at = data.draw(st.integers(0, len(raw) - 2), label="offset")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]), label="byte")
    line_of_edit = raw[:at].count(b"\n") + 1
    raw[at] = new
    path.write_bytes(bytes(raw))
    assert len(lines) == 4
    with pytest.raises(LogError) as err:
        verify_log(path, key=KEY)
    assert err.value.line is None or err.value.line <= line_of_edit
