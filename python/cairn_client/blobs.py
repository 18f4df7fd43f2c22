"""Cairn's blobs in one place: pseudo-gradients, models and trainer state.

The formats live in `pseudo_gradient`, `model_blob` and `trainer_state`; this module gathers
their public names, so a trainer imports one module::

    from cairn_client import blobs
    pg = blobs.decode(data, parameter_count, chunk_size, top_k)   # BlobError(field, offset, problem)
    dense = pg.dense(); norm = pg.l2_norm()
    blob = blobs.encode(pg, top_k); blob_id = blobs.blob_id(blob)

Every decoder refuses exactly what the node refuses, with the node's field names and offsets.
"""

from __future__ import annotations

from .blob_io import BlobError, blob_id
from .model_blob import ModelSpec, decode_model, encode_model, model_hash
from .pseudo_gradient import (
    Chunk,
    PseudoGradient,
    check_compression,
    chunk_count,
    compress,
    compress_with_feedback,
    decode,
    encode,
    max_blob_bytes,
)
from .trainer_state import (
    TrainerState,
    TrainerStateFileError,
    read_trainer_state,
    trainer_state_path,
    write_trainer_state,
)

__all__ = [
    "BlobError",
    "Chunk",
    "ModelSpec",
    "PseudoGradient",
    "TrainerState",
    "TrainerStateFileError",
    "blob_id",
    "check_compression",
    "chunk_count",
    "compress",
    "compress_with_feedback",
    "decode",
    "decode_model",
    "encode",
    "encode_model",
    "max_blob_bytes",
    "model_hash",
    "read_trainer_state",
    "trainer_state_path",
    "write_trainer_state",
]
