"""Events layer: the event envelope, codec, log, blob store and fold.

Everything in Attractor is derived by folding an append-only log of these events.
"""

from attractor.events._codec import (
    GENESIS,
    Entry,
    LineCodec,
    chain_hash,
    chain_mac,
    check_stream,
    derive_key,
)
from attractor.events._errors import (
    EmptyLogError,
    EventTypeError,
    LogCorruptError,
    LogError,
    LogKeyError,
    LogLockedError,
    NewerSchemaError,
    NotALogError,
    RecordingError,
    UnknownEventTypeError,
)
from attractor.events._event import (
    BlobRef,
    Event,
    Text,
    Upcaster,
    event_classes,
    event_tag,
    register_upcaster,
)
from attractor.events._files import atomic_write, recording_error, write_all
from attractor.events._fold import fold, fold_from, state_hash
from attractor.events.blobs import BlobStore
from attractor.events.keys import FROM_ENV, KeyArg, configured_key, resolve_key
from attractor.events.log import EventLog, LogReader, TornTail, Verification, read_log, verify_log
from attractor.events.store import Emit, MemoryStore, Store

__all__ = [
    "FROM_ENV",
    "GENESIS",
    "BlobRef",
    "BlobStore",
    "Emit",
    "EmptyLogError",
    "Entry",
    "Event",
    "EventLog",
    "EventTypeError",
    "KeyArg",
    "LineCodec",
    "LogCorruptError",
    "LogError",
    "LogKeyError",
    "LogLockedError",
    "LogReader",
    "MemoryStore",
    "NewerSchemaError",
    "NotALogError",
    "RecordingError",
    "Store",
    "Text",
    "TornTail",
    "UnknownEventTypeError",
    "Upcaster",
    "Verification",
    "atomic_write",
    "chain_hash",
    "chain_mac",
    "check_stream",
    "configured_key",
    "derive_key",
    "event_classes",
    "event_tag",
    "fold",
    "fold_from",
    "read_log",
    "recording_error",
    "register_upcaster",
    "resolve_key",
    "state_hash",
    "verify_log",
    "write_all",
]
