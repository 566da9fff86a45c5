"""Failed-input patterns: the inputs that failed, clustered by meaning and named by their terms.

Pure: the store hands over one row per distinct failed input (its text, how many of its
attempts failed, passed and were decided; `store/pattern_reads.py`), and
`analyse_failed_inputs` returns the clusters and the term weights of a word cloud.

The default method needs nothing downloaded: TF-IDF over words (English stop words
removed), latent semantic analysis (a truncated SVD of the TF-IDF matrix down to about
sqrt(inputs) dimensions, rows scaled to unit length) and agglomerative clustering (average
linkage on cosine distance, cut at `AGGLOMERATIVE_DISTANCE`); groups smaller than
`min_cluster_size` stay unclustered. `hdbscan` (density-based, from the same library) is the
alternative. Both come from scikit-learn, the optional `patterns` extra. The result depends
only on the rows (not their order) and the seed. How to read it: docs/patterns.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from routelens.errors import InputError
from routelens.extras import install_hint

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_MIN_CLUSTER_SIZE = 3
DEFAULT_SEED = 0
DEFAULT_TOP_TERMS = 4
DEFAULT_EXAMPLES = 3
DEFAULT_CLOUD_TERMS = 60
MAX_LSA_COMPONENTS = 100
"""LSA keeps about the square root of the number of inputs as dimensions, at most this many:
few enough that inputs sharing no word but used alike land close together."""
AGGLOMERATIVE_DISTANCE = 0.8
"""Average-linkage cut: clusters merge while their mean cosine distance is below this."""
TOKEN_PATTERN = r"(?u)\b[^\W\d_](?:[^\W\d_]|['-](?=[^\W\d_]))+\b"
"""Words of two or more letters, with hyphens or apostrophes inside (`follow-up`, `can't`)."""
_HAS_DIGIT = re.compile(r"\S*\d\S*")
PATTERNS_EXTRA_HINT = f"failed-input patterns need scikit-learn: {install_hint('patterns')}"


class ClusterMethod(StrEnum):
    """How the LSA vectors of the failed inputs are grouped."""

    AGGLOMERATIVE = "agglomerative"
    HDBSCAN = "hdbscan"


@dataclass(frozen=True)
class InputOutcomes:
    """One distinct input of the window: its text and its attempts' verdicts.

    `failures` counts failed attempts, `passes` passed ones; `decided` is both (errors are
    not decided and are left out, as everywhere in routelens).
    """

    input: str
    failures: int
    passes: int

    @property
    def decided(self) -> int:
        """Passed plus failed attempts."""
        return self.failures + self.passes


@dataclass(frozen=True)
class ExampleInput:
    """An input shown for a cluster, with its own counts."""

    input: str
    failures: int
    decided: int


@dataclass(frozen=True)
class InputGroup:
    """A set of failed inputs and the pooled verdicts of all their decided attempts."""

    inputs: int
    failures: int
    passes: int
    examples: tuple[ExampleInput, ...]
    members: tuple[ExampleInput, ...]

    @property
    def decided(self) -> int:
        """Decided attempts of the group's inputs."""
        return self.failures + self.passes

    @property
    def accuracy(self) -> float | None:
        """Passed ÷ decided over every attempt whose input is in the group."""
        return self.passes / self.decided if self.decided else None


@dataclass(frozen=True)
class FailureCluster(InputGroup):
    """A group of failed inputs that mean alike, named by its top terms.

    Example::

        report = analyse_failed_inputs(rows)
        cluster = report.clusters[0]
        cluster.name, cluster.inputs, cluster.failures, cluster.accuracy
    """

    cluster_id: int
    top_terms: tuple[str, ...]

    @property
    def name(self) -> str:
        """The top terms joined, e.g. `sprint / board / velocity`."""
        return " / ".join(self.top_terms) if self.top_terms else "(no terms)"


@dataclass(frozen=True)
class TermWeight:
    """A term of the word cloud: failed attempts whose input has it, and that relative to the
    most frequent term (0-1]."""

    term: str
    failures: int
    weight: float


@dataclass(frozen=True)
class PatternReport:
    """The clusters (most failures first), the unclustered rest and the word cloud."""

    method: ClusterMethod
    seed: int
    min_cluster_size: int
    clusters: tuple[FailureCluster, ...]
    unclustered: InputGroup
    terms: tuple[TermWeight, ...]

    @property
    def failed_inputs(self) -> int:
        """Distinct failed inputs analysed."""
        return sum(cluster.inputs for cluster in self.clusters) + self.unclustered.inputs


def words_only(text: str) -> str:
    """Lower case, without the chunks that hold a digit: issue keys (TES-12), numbers and
    dates name one item rather than a kind of request."""
    return _HAS_DIGIT.sub(" ", text.lower())


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InputError("routelens patterns", PATTERNS_EXTRA_HINT, field="patterns") from None


def _group(
    rows: Sequence[InputOutcomes], members: Sequence[int], examples: Sequence[int]
) -> dict[str, Any]:
    return {
        "inputs": len(members),
        "failures": sum(rows[i].failures for i in members),
        "passes": sum(rows[i].passes for i in members),
        "examples": tuple(_example(rows[i]) for i in examples),
        "members": tuple(_example(rows[i]) for i in members),
    }


def _example(row: InputOutcomes) -> ExampleInput:
    return ExampleInput(row.input, row.failures, row.decided)


def _labels(
    vectors: NDArray[np.float64], method: ClusterMethod, min_cluster_size: int
) -> NDArray[np.int64]:
    """A cluster label per row, -1 for none; rows without any term are never clustered."""
    import numpy as np

    labels = np.full(vectors.shape[0], -1, dtype=np.int64)
    with_terms = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
    if len(with_terms) < max(min_cluster_size, 2):
        return labels
    if method is ClusterMethod.HDBSCAN:
        from sklearn.cluster import HDBSCAN

        clusterer = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=2, copy=True)
        labels[with_terms] = clusterer.fit_predict(vectors[with_terms])
        return labels
    from sklearn.cluster import AgglomerativeClustering

    agglomerative = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=AGGLOMERATIVE_DISTANCE,
    )
    found = np.asarray(agglomerative.fit_predict(vectors[with_terms]), dtype=np.int64)
    sizes = np.bincount(found)
    labels[with_terms] = np.where(sizes[found] >= min_cluster_size, found, -1)
    return labels


def _lsa_vectors(tfidf: Any, seed: int) -> NDArray[np.float64]:
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    rows, columns = tfidf.shape
    components = min(MAX_LSA_COMPONENTS, math.ceil(math.sqrt(rows)), rows - 1, columns - 1)
    if components < 2:
        dense = np.asarray(tfidf.toarray(), dtype=np.float64)
    else:
        svd = TruncatedSVD(n_components=components, random_state=seed)
        dense = np.asarray(svd.fit_transform(tfidf), dtype=np.float64)
    return np.asarray(normalize(dense), dtype=np.float64)


def _closest_to_centre(
    vectors: NDArray[np.float64], members: Sequence[int], rows: Sequence[InputOutcomes], limit: int
) -> list[int]:
    centre = vectors[list(members)].mean(axis=0)
    similarity = vectors[list(members)] @ centre
    ranked = sorted(
        zip(members, similarity, strict=True),
        key=lambda item: (-round(float(item[1]), 9), -rows[item[0]].failures, rows[item[0]].input),
    )
    return [index for index, _ in ranked[:limit]]


def _most_failed(rows: Sequence[InputOutcomes], members: Sequence[int], limit: int) -> list[int]:
    return sorted(members, key=lambda i: (-rows[i].failures, rows[i].input))[:limit]


def _top_terms(
    tfidf: Any, members: Sequence[int], vocabulary: Sequence[str], limit: int
) -> tuple[str, ...]:
    import numpy as np

    weights = np.asarray(tfidf[list(members)].mean(axis=0)).ravel()
    present = [int(i) for i in np.flatnonzero(weights)]
    order = sorted(present, key=lambda i: (-weights[i], vocabulary[i]))
    return tuple(vocabulary[i] for i in order[:limit])


def term_weights(
    rows: Sequence[InputOutcomes], *, limit: int = DEFAULT_CLOUD_TERMS
) -> tuple[TermWeight, ...]:
    """The word cloud: each term with the failed attempts whose input contains it, heaviest
    first (ties by term), stop words and numbers left out."""
    _require_sklearn()
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    texts = [row.input for row in rows if row.failures > 0]
    failures = np.array([row.failures for row in rows if row.failures > 0], dtype=np.int64)
    if not texts:
        return ()
    counter = CountVectorizer(
        stop_words="english", token_pattern=TOKEN_PATTERN, preprocessor=words_only, binary=True
    )
    try:
        presence = counter.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return ()
    totals = np.asarray(presence.T @ failures).ravel()
    vocabulary = counter.get_feature_names_out()
    order = sorted(range(len(vocabulary)), key=lambda i: (-totals[i], vocabulary[i]))[:limit]
    heaviest = int(totals[order[0]]) if order else 1
    return tuple(
        TermWeight(str(vocabulary[i]), int(totals[i]), int(totals[i]) / heaviest) for i in order
    )


def analyse_failed_inputs(
    rows: Sequence[InputOutcomes],
    *,
    method: ClusterMethod = ClusterMethod.AGGLOMERATIVE,
    min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE,
    seed: int = DEFAULT_SEED,
    top_terms: int = DEFAULT_TOP_TERMS,
    examples: int = DEFAULT_EXAMPLES,
    cloud_terms: int = DEFAULT_CLOUD_TERMS,
) -> PatternReport:
    """Cluster the failed inputs among `rows` (inputs without failures are ignored).

    Clusters come most failed attempts first, numbered from 1; each is named by the terms
    with the highest mean TF-IDF weight over its inputs, and shows the inputs nearest its
    centre. Inputs in no cluster (groups under `min_cluster_size`, or HDBSCAN's noise) are
    pooled as `unclustered`, shown by their most failed inputs.
    """
    if min_cluster_size < 2:
        raise InputError(
            "--min-cluster-size", f"{min_cluster_size} is not at least 2", field="min_cluster_size"
        )
    _require_sklearn()
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    failed = sorted((row for row in rows if row.failures > 0), key=lambda row: row.input)
    clusters: list[FailureCluster] = []
    noise = list(range(len(failed)))
    if failed:
        vectorizer = TfidfVectorizer(
            stop_words="english",
            token_pattern=TOKEN_PATTERN,
            preprocessor=words_only,
            sublinear_tf=True,
        )
        try:
            tfidf = vectorizer.fit_transform([row.input for row in failed])
        except ValueError:  # nothing but stop words: nothing to cluster on
            tfidf = None
        if tfidf is not None:
            vocabulary = [str(term) for term in vectorizer.get_feature_names_out()]
            vectors = _lsa_vectors(tfidf, seed)
            labels = _labels(vectors, method, min_cluster_size)
            noise = [int(i) for i in np.flatnonzero(labels < 0)]
            found = []
            for label in sorted(set(labels.tolist()) - {-1}):
                members = [int(i) for i in np.flatnonzero(labels == label)]
                shown = _closest_to_centre(vectors, members, failed, examples)
                terms = _top_terms(tfidf, members, vocabulary, top_terms)
                found.append((terms, _group(failed, members, shown)))
            found.sort(key=lambda item: (-item[1]["failures"], -item[1]["inputs"], item[0]))
            clusters = [
                FailureCluster(cluster_id=number, top_terms=terms, **group)
                for number, (terms, group) in enumerate(found, start=1)
            ]
    return PatternReport(
        method=method,
        seed=seed,
        min_cluster_size=min_cluster_size,
        clusters=tuple(clusters),
        unclustered=InputGroup(**_group(failed, noise, _most_failed(failed, noise, examples))),
        terms=term_weights(failed, limit=cloud_terms),
    )


def _group_dict(group: InputGroup) -> dict[str, Any]:
    return {
        "inputs": group.inputs,
        "failures": group.failures,
        "passes": group.passes,
        "decided": group.decided,
        "accuracy": group.accuracy,
        "examples": [
            {"input": example.input, "failures": example.failures, "decided": example.decided}
            for example in group.examples
        ],
    }


def pattern_report_dict(report: PatternReport) -> dict[str, Any]:
    """The analysis part of `routelens patterns --json` (docs/patterns.md has the shape)."""
    return {
        "method": str(report.method),
        "seed": report.seed,
        "min_cluster_size": report.min_cluster_size,
        "failed_inputs": report.failed_inputs,
        "clusters": [
            {
                "id": cluster.cluster_id,
                "name": cluster.name,
                "top_terms": list(cluster.top_terms),
                **_group_dict(cluster),
            }
            for cluster in report.clusters
        ],
        "unclustered": _group_dict(report.unclustered),
        "terms": [
            {"term": term.term, "failures": term.failures, "weight": round(term.weight, 4)}
            for term in report.terms
        ],
    }
