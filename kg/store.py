"""The graph store: one networkx MultiDiGraph per collection, persisted atomically as JSON.

File: `<home>/graphs/<collection>.json` (format "spark-agents-kg", version 1). Nodes are entity names
(the display form of the first mention) with `type`, `aliases` and `mentions`; every edge carries its
relation and provenance (`source_id`, `chunk_id`, `span` within the chunk, `evidence`, `extractor`).
The file's metadata: `merges` (the merge log: every surface form folded or renamed, and why), `aliases`
(set by the user) and `acronyms` (acronym -> expansion, as the built documents define them).
Writes go to a temporary file in the same folder, fsync, then `os.replace`, under an exclusive lock.
A file that cannot be read is reported as `GraphCorrupted`, copied to a timestamped backup, and never
overwritten: the user resets it explicitly (`spark-agents graph reset`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
from pydantic import BaseModel

from core.files import atomic_write
from kg.errors import GraphCorrupted, InvalidTriple, KGError
from kg.merge import EntityIndex, MergeRecord
from kg.model import Triple, check_triple
from kg.settings import KGSettings

FORMAT, VERSION = "spark-agents-kg", 1
_CACHE: dict[str, tuple[tuple[str, int, int], KnowledgeGraph]] = {}
_T = TypeVar("_T")
_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class AddReport(BaseModel):
    triples_in: int
    edges_added: int
    duplicates_skipped: int
    nodes_added: int
    merges: list[MergeRecord]


def edge_key(t: Triple) -> str:
    raw = f"{t.relation}\x1f{t.source_id}\x1f{t.chunk_id}\x1f{t.span[0]}:{t.span[1]}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


class KnowledgeGraph:
    """A MultiDiGraph plus its merge log and alias table (what the store persists)."""

    def __init__(
        self,
        graph: nx.MultiDiGraph | None = None,
        merges: list[dict[str, Any]] | None = None,
        aliases: dict[str, str] | None = None,
        acronyms: dict[str, str] | None = None,
    ) -> None:
        self.graph = graph if graph is not None else nx.MultiDiGraph()
        self.merges = merges or []
        self.aliases = aliases or {}
        self.acronyms = acronyms or {}
        self.version = 0  # bumped by add_triples: caches below are keyed on it
        self._index: tuple[tuple[float, int, int, int], EntityIndex] | None = None
        self._undirected: tuple[tuple[int, int], nx.Graph] | None = None
        self._memo: dict[Any, tuple[tuple[int, int, int], Any]] = {}

    def memo(self, key: Any, build: Callable[[], _T]) -> _T:
        """Data derived from the graph (communities, indexes), built once and kept until the graph changes."""
        stamp = (self.version, self.graph.number_of_nodes(), self.graph.number_of_edges())
        hit = self._memo.get(key)
        if hit is None or hit[0] != stamp:
            hit = (stamp, build())
            self._memo[key] = hit
        return hit[1]  # type: ignore[no-any-return]

    def undirected(self) -> nx.Graph:
        """A simple undirected copy for path search (cached until the graph changes)."""
        stamp = (self.version, self.graph.number_of_nodes())
        if self._undirected is None or self._undirected[0] != stamp:
            und = nx.Graph()
            und.add_nodes_from(self.graph)
            und.add_edges_from((u, v) for u, v, _k in self.graph.edges(keys=True))
            self._undirected = (stamp, und)
        return self._undirected[1]

    def index(self, threshold: float = 0.92) -> EntityIndex:
        """The entity index (cached until the graph or the alias table changes)."""
        g = self.graph
        stamp = (threshold, self.version, g.number_of_nodes(), len(self.aliases) + len(self.acronyms))
        if self._index is not None and self._index[0] == stamp:
            return self._index[1]
        idx = EntityIndex(self.aliases, threshold, self.acronyms)
        for node, data in g.nodes(data=True):
            idx.add_node(node, data.get("aliases", []))
        self._index = (stamp, idx)
        return idx

    def add_triples(
        self,
        triples: Iterable[Triple],
        settings: KGSettings,
        acronyms: dict[str, str] | None = None,
    ) -> AddReport:
        """Merge triples in: entities folded through the index, one edge per (relation, provenance).

        `acronyms` (acronym -> expansion, from `kg.canon.acronym_definitions` over the same documents) join
        the graph's table first, so "NPU" and "Neural Processing Unit" become one node whichever comes first.
        """
        checked = [check_triple(t, settings.max_field_chars) for t in triples]  # all valid, or nothing changes
        for acr, expansion in (acronyms or {}).items():
            self.acronyms.setdefault(acr, expansion)
        idx = self.index(settings.merge_threshold)
        self._index = None  # resolve() below grows this index; rebuilt on next use
        self.version += 1
        g = self.graph
        added = dup = 0
        nodes_before = g.number_of_nodes()
        merges: list[MergeRecord] = []
        for t in checked:
            resolved = [(idx.resolve(t.subject), t.subject_type), (idx.resolve(t.object), t.object_type)]
            u, v = resolved[0][0][0], resolved[1][0][0]
            key = edge_key(t)
            if u == v:
                continue
            if g.has_edge(u, v, key):
                dup += 1
                continue
            for (node, record), etype in resolved:
                if node not in g:
                    g.add_node(node, type=etype, aliases=[], mentions=0)
                data = g.nodes[node]
                data["mentions"] = data.get("mentions", 0) + 1
                if data.get("type", "ENTITY") == "ENTITY" and etype != "ENTITY":
                    data["type"] = etype
                if record is not None and record.surface not in data["aliases"]:
                    data["aliases"].append(record.surface)
                    merges.append(record)
            g.add_edge(
                u,
                v,
                key=key,
                relation=t.relation,
                source_id=t.source_id,
                chunk_id=t.chunk_id,
                span=list(t.span),
                evidence=t.evidence,
                extractor=t.extractor,
            )
            added += 1
        self.merges.extend(m.model_dump() for m in merges)
        return AddReport(
            triples_in=len(checked),
            edges_added=added,
            duplicates_skipped=dup,
            nodes_added=g.number_of_nodes() - nodes_before,
            merges=merges,
        )

    # --- serialisation ---------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        g = self.graph
        return {
            "format": FORMAT,
            "version": VERSION,
            "merges": self.merges,
            "aliases": self.aliases,
            "acronyms": self.acronyms,
            "nodes": [[n, d] for n, d in g.nodes(data=True)],
            "edges": [[u, v, k, d] for u, v, k, d in g.edges(keys=True, data=True)],
        }

    @classmethod
    def from_json(cls, data: Any) -> KnowledgeGraph:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        if data.get("version") != VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        g = nx.MultiDiGraph()
        for n, d in data["nodes"]:
            if not isinstance(n, str) or not isinstance(d, dict):
                raise ValueError("a node is not [name, attributes]")
            g.add_node(n, **d)
        for u, v, k, d in data["edges"]:
            if not isinstance(d, dict) or u not in g or v not in g:
                raise ValueError("an edge is not [subject, object, key, attributes] between known entities")
            if "relation" not in d or "source_id" not in d or "chunk_id" not in d:
                raise ValueError("an edge lacks its relation or provenance")
            span = d.get("span", [0, 0])
            if type(span) is not list or len(span) != 2 or type(span[0]) is not int or type(span[1]) is not int:
                raise ValueError("an edge has an invalid text span")
            g.add_edge(u, v, key=k, **d)
        return cls(g, list(data.get("merges") or []), dict(data.get("aliases") or {}), dict(data.get("acronyms") or {}))


def _graphml_ready(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """GraphML holds scalars only: lists become JSON strings."""
    h = nx.MultiDiGraph()
    for n, d in g.nodes(data=True):
        h.add_node(n, **{k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in d.items()})
    for u, v, k, d in g.edges(keys=True, data=True):
        h.add_edge(u, v, key=k, **{a: json.dumps(b) if isinstance(b, list | dict) else b for a, b in d.items()})
    return h


def _from_graphml(g: nx.MultiDiGraph, origin: str) -> list[Triple]:
    out = []
    for u, v, d in g.edges(data=True):
        span = d.get("span", "[0, 0]")
        try:
            span = tuple(json.loads(span)) if isinstance(span, str) else tuple(span)
        except (json.JSONDecodeError, TypeError):
            span = (0, 0)
        out.append(
            Triple(
                subject=str(u),
                relation=str(d.get("relation") or d.get("label") or "related to"),
                object=str(v),
                subject_type=str(g.nodes[u].get("type", "ENTITY")),
                object_type=str(g.nodes[v].get("type", "ENTITY")),
                source_id=str(d.get("source_id") or f"import:{origin}"),
                chunk_id=str(d.get("chunk_id") or f"import:{origin}"),
                span=span if len(span) == 2 else (0, 0),
                evidence=str(d.get("evidence", "")),
                extractor=str(d.get("extractor", "import")),
            )
        )
    return out


class GraphStore:
    """One collection's graph on disk."""

    def __init__(self, collection: str | None, settings: KGSettings) -> None:
        self.settings = settings
        self.collection = collection or self.settings.collection
        if not _COLLECTION.match(self.collection):
            raise KGError(
                f"Invalid collection name {self.collection!r}: use letters, digits, '.', '_' or '-' (max 64)."
            )
        self.dir = self.settings.graphs_dir
        self.path = self.dir / f"{self.collection}.json"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def load(self, cached: bool = False) -> KnowledgeGraph:
        """The stored graph (empty when none). A corrupted file raises GraphCorrupted after a backup.

        `cached=True` (read-only callers: queries, views) reuses the graph loaded earlier in this process
        while the file's size and modification time are unchanged; never mutate that graph.
        """
        if not self.path.exists():
            return KnowledgeGraph()
        if not os.access(self.path, os.R_OK):
            raise KGError(f"Cannot read the graph file {self.path}: permission denied (check its owner and mode).")
        try:
            st = self.path.stat()
            stamp = (str(self.path), st.st_mtime_ns, st.st_size)
            if cached and _CACHE.get(str(self.path), (None,))[0] == stamp:
                return _CACHE[str(self.path)][1]
            raw = self.path.read_bytes()
            kg = KnowledgeGraph.from_json(json.loads(raw))
            if cached:
                _CACHE[str(self.path)] = (stamp, kg)
            return kg
        except (ValueError, KeyError, TypeError, AttributeError, nx.NetworkXError) as e:
            backup = self._backup()
            raise GraphCorrupted(
                f"The graph file {self.path} is corrupted ({str(e)[:120]}); a copy is kept at {backup}. "
                f"Nothing was changed: fix the file, or start over with "
                f"`spark-agents graph reset --collection {self.collection}`."
            ) from None

    def _backup(self) -> Path:
        digest = hashlib.sha1(self.path.read_bytes()).hexdigest()[:8]
        for existing in self.dir.glob(f"{self.collection}.json.corrupt-*-{digest}.bak"):
            return existing  # the same corrupted bytes are already backed up
        backup = self.dir / f"{self.collection}.json.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{digest}.bak"
        shutil.copy2(self.path, backup)
        return backup

    def save(self, kg: KnowledgeGraph) -> None:
        atomic_write(self.path, json.dumps(kg.to_json(), ensure_ascii=False, separators=(",", ":")))

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f".{self.collection}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def update(self) -> Iterator[KnowledgeGraph]:
        """Load, let the caller change the graph, save atomically; an exception saves nothing."""
        with self._lock():
            kg = self.load()
            yield kg
            self.save(kg)

    def add_triples(self, triples: list[Triple]) -> AddReport:
        with self.update() as kg:
            return kg.add_triples(triples, self.settings)

    def set_alias(self, alias: str, canonical: str) -> None:
        with self.update() as kg:
            kg.aliases[alias] = canonical

    def reset(self) -> Path | None:
        """Move the current file (readable or not) to a backup and start empty. Returns the backup path."""
        with self._lock():
            if not self.path.exists():
                return None
            backup = self.dir / f"{self.collection}.json.reset-{time.strftime('%Y%m%dT%H%M%S')}.bak"
            os.replace(self.path, backup)
            return backup

    # --- import / export -------------------------------------------------------------------------------------
    def export(self, path: Path, fmt: str | None = None) -> Path:
        content = self.export_text(fmt or _format_of(path.name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return path

    def export_text(self, fmt: str) -> str:
        """The graph as GraphML or as this store's JSON (what `export` writes)."""
        kg = self.load()
        if fmt == "graphml":
            out = io.BytesIO()
            nx.write_graphml(_graphml_ready(kg.graph), out)
            return out.getvalue().decode("utf-8")
        if fmt == "json":
            return json.dumps(kg.to_json(), ensure_ascii=False, indent=1)
        raise KGError(f"Unknown export format {fmt!r}: use 'json' or 'graphml'.")

    def import_file(self, path: Path, fmt: str | None = None) -> AddReport:
        """Merge a GraphML or JSON (this store's format) file into the collection, through entity merging."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KGError(f"No such file: {path}") from None
        except OSError as e:
            raise KGError(f"Cannot import {path}: {e.strerror or e}") from None
        return self.import_data(data, str(path), fmt)

    def import_data(self, data: bytes, name: str, fmt: str | None = None) -> AddReport:
        """Merge a graph file's bytes; `name` (the file it came from) gives the format by its suffix, the
        messages, and the origin of facts that carry no provenance."""
        fmt = fmt or _format_of(name)
        try:
            if fmt == "graphml":
                g = nx.read_graphml(io.BytesIO(data), force_multigraph=True)
                if not g.is_directed():
                    g = g.to_directed()
                aliases: dict[str, str] = {}
            else:
                other = KnowledgeGraph.from_json(json.loads(data.decode("utf-8")))
                g, aliases = other.graph, other.aliases
        except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault
            raise KGError(f"Cannot import {name} as {fmt}: {str(e)[:150]}") from None
        triples = _from_graphml(g, Path(name).name)
        with self.update() as kg:
            kg.aliases.update(aliases)
            try:
                return kg.add_triples(triples, self.settings)
            except InvalidTriple as e:
                raise KGError(f"Cannot import {name}: {e}") from None


def _format_of(name: str) -> str:
    return "graphml" if name.lower().endswith(".graphml") else "json"
