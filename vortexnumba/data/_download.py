"""Fetching the official files of a data set through pooch, each checked by its SHA-256."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from .._progress import progress as _progress
from ._loaders import check_name, default_cache_dir

__all__ = ["OFFICIAL_SHA256", "OFFICIAL_URL_BASE", "download"]

#: Where ``download`` fetches each data set from by default. MNIST comes from
#: the mirror that keeps LeCun's original files byte for byte (the original
#: site often refuses scripted downloads); the digests below are the same.
OFFICIAL_URL_BASE = {
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}

#: SHA-256 of every official file. Each value was checked against several
#: independent published records of the same file (and, for Fashion-MNIST,
#: against the MD5 sums in the data set's own README via those records).
#: Debian's package recompresses the Fashion-MNIST files, so its .gz files
#: have other digests; ``load`` reads them fine, ``download`` never fetches them.
OFFICIAL_SHA256 = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "cifar10": {
        "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    },
}


def _sha256_file(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


@contextlib.contextmanager
def _quiet_pooch():
    """pooch logs every download at INFO level to stderr; the library does not speak."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def download(name: str, cache_dir: str | Path | None = None, url_base: str | None = None, *,
             digests: dict | None = None, force: bool = False, progress: bool | None = False,
             timeout: float = 60.0) -> list[Path]:
    """Fetch the official files of a data set and verify their SHA-256.

    Each file goes through ``pooch.retrieve`` with its known hash: pooch
    downloads to a temporary file beside the target, checks the digest and
    only then gives the file its name, so a file with another digest is
    never saved. Files already present with the right digest are kept; an
    existing file with a wrong digest is only replaced with ``force=True``.

    Parameters
    ----------
    name : {"fashion-mnist", "mnist", "cifar10"}
        The data set (``digits`` is embedded and needs no download).
    cache_dir : str or path-like, optional
        Where to put the files; default ``default_cache_dir(name)``
        (``pooch.os_cache("vortexnumba")/<name>``, honouring
        ``XDG_CACHE_HOME``), which ``load`` searches.
    url_base : str, optional
        URL prefix the file names are appended to; default the official
        location (``OFFICIAL_URL_BASE``).
    digests : dict, optional
        ``{file name: sha256 hex}`` to expect instead of ``OFFICIAL_SHA256[name]``
        (for mirrors of other files, and for tests).
    force : bool
        Replace an existing file whose digest is wrong.
    progress : bool
        Show a progress bar per file.
    timeout : float
        Seconds to wait on the network before giving up.

    Returns
    -------
    list of Path
        The verified files.

    Examples
    --------
    >>> paths = download("fashion-mnist")  # doctest: +SKIP
    """
    import pooch
    import requests

    name = check_name(name)
    if name == "digits":
        raise ValueError("name 'digits' is embedded in scikit-learn; there is nothing to download")
    expected = dict(OFFICIAL_SHA256[name] if digests is None else digests)
    if not expected:
        raise ValueError("digests must name at least one file")
    base = OFFICIAL_URL_BASE[name] if url_base is None else str(url_base)
    if not base.endswith("/"):
        base += "/"
    target = Path(os.fspath(cache_dir)).expanduser() if cache_dir is not None else default_cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for filename, digest in expected.items():
        digest = str(digest).lower()
        path = target / filename
        if path.is_file():
            have = _sha256_file(path)
            if have == digest:
                done.append(path)
                continue
            if not force:
                raise ValueError(
                    f"{path} exists but its SHA-256 is {have}, expected {digest}; "
                    "delete it or use force=True to fetch it again"
                )
        url = base + filename
        bar = _progress(None, filename, unit="B", enabled=bool(progress), unit_scale=True) if progress else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=timeout, headers={"User-Agent": "vortexnumba"})
        try:
            with _quiet_pooch():
                pooch.retrieve(url, known_hash=f"sha256:{digest}", fname=filename, path=target,
                               downloader=downloader)
        except requests.exceptions.RequestException as exc:
            raise OSError(f"could not fetch {url}: {exc}") from None
        except ValueError as exc:
            got = re.search(r"but got ([0-9a-f]{64})", str(exc))
            if got is None:
                raise
            raise ValueError(f"refusing {url}: its SHA-256 is {got.group(1)}, expected {digest}; "
                             "nothing was saved") from None
        done.append(path)
    return done
