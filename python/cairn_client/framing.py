"""The binary body of ``POST /v1/records`` (Sources/CairnAPI/RecordFraming.swift).

Content type ``application/octet-stream``: signed records in their canonical encoding, each
preceded by its length as a 4-byte big-endian integer. The node refuses the whole body when a
length is 0 or above 256 KiB, a record runs past the end, there are more than 1,000 records, or
the body is empty; and it reads at most 256 KiB of body. `frame_records` checks those limits before
sending, so a batch the node would refuse is caught here with a message saying how to split it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "MAX_RECORDS_PER_SUBMISSION",
    "MAX_SUBMISSION_BYTES",
    "FramingError",
    "frame_records",
    "split_frame",
]

MAX_RECORDS_PER_SUBMISSION = 1_000
"""The node's `maxRecordsPerSubmission`."""

MAX_SUBMISSION_BYTES = 256 * 1024
"""The node's `NodeAPI.maxBodyBytes`: the largest request body, and the largest framed record."""


class FramingError(ValueError):
    """A framed body the node would refuse, with the node's wording of why."""


def frame_records(records: Sequence[bytes]) -> bytes:
    """Frames encoded signed records for ``POST /v1/records`` as ``application/octet-stream``."""
    if not records:
        raise FramingError("no records")
    if len(records) > MAX_RECORDS_PER_SUBMISSION:
        raise FramingError(f"{len(records)} records; at most {MAX_RECORDS_PER_SUBMISSION} per submission — split the batch")
    out = bytearray()
    for index, record in enumerate(records):
        data = bytes(record)
        if not 1 <= len(data) <= MAX_SUBMISSION_BYTES:
            raise FramingError(f"record {index} has length {len(data)}; lengths must be in 1…{MAX_SUBMISSION_BYTES}")
        out += len(data).to_bytes(4, "big")
        out += data
    if len(out) > MAX_SUBMISSION_BYTES:
        raise FramingError(
            f"the framed body is {len(out)} bytes; the node reads at most {MAX_SUBMISSION_BYTES} — split the batch"
        )
    return bytes(out)


def split_frame(
    body: bytes,
    max_records: int = MAX_RECORDS_PER_SUBMISSION,
    max_record_bytes: int = MAX_SUBMISSION_BYTES,
) -> list[bytes]:
    """Splits a framed body into records, refusing exactly what the node's `RecordFraming.split` refuses."""
    data = bytes(body)
    records: list[bytes] = []
    position = 0
    while position != len(data):
        if len(records) >= max_records:
            raise FramingError(f"more than {max_records} records in one submission")
        if len(data) - position < 4:
            raise FramingError(f"the body ends inside a 4-byte length prefix at byte {position}")
        length = int.from_bytes(data[position : position + 4], "big")
        position += 4
        if not 1 <= length <= max_record_bytes:
            raise FramingError(f"record {len(records)} has length {length}; lengths must be in 1…{max_record_bytes}")
        available = len(data) - position
        if length > available:
            raise FramingError(f"record {len(records)} claims {length} bytes but only {available} remain")
        records.append(data[position : position + length])
        position += length
    if not records:
        raise FramingError("no records")
    return records
