"""A generated bag-of-words corpus: the sparse-input benchmark's data set.

No installed package ships a labelled text corpus (scikit-learn's 20
newsgroups and RCV1 are downloads), so the benchmark generates one, with the
shape of real term-document matrices:

- a vocabulary of ``n_terms`` terms (100,000) whose frequencies follow Zipf's
  law (the term of rank r drawn with probability proportional to ``1 / r``);
- documents of about ``terms_per_doc`` terms (100; Poisson lengths), so about
  0.1 % of a row's entries are non-zero;
- ``n_classes`` topics: each class owns ``topic_terms`` terms of middle rank
  (ranks 100 to 20,000), and a ``topical`` share of each document's words is
  drawn from its class's terms, the rest from the whole vocabulary. The label
  depends on the terms only through those words, so the task is learnable,
  and not trivially (the frequent words carry no signal);
- values as scikit-learn's ``TfidfVectorizer(sublinear_tf=True, use_idf=False)``
  leaves them: ``1 + log(count)``, each row scaled to unit length; float32.

Everything is drawn from one ``numpy.random.default_rng(seed)``: the same
arguments give the same matrix. Only NumPy and SciPy: the corpus does not
depend on the library it benchmarks.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

N_TERMS = 100_000
TERMS_PER_DOC = 100
N_CLASSES = 20
TOPIC_TERMS = 300
TOPICAL = 0.1
TOPIC_RANKS = (100, 20_000)


def zipf_probabilities(n_terms: int, exponent: float = 1.0) -> np.ndarray:
    """P(term of rank r) proportional to ``1 / r ** exponent``, r = 1..n_terms."""
    weights = 1.0 / np.arange(1, n_terms + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def generate(n_docs: int, *, n_terms: int = N_TERMS, terms_per_doc: int = TERMS_PER_DOC,
             n_classes: int = N_CLASSES, topic_terms: int = TOPIC_TERMS,
             topical: float = TOPICAL, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """``n_docs`` documents: (X, a float32 CSR matrix of shape (n_docs, n_terms) with
    sorted indices and no duplicates, y, int64 labels in ``range(n_classes)``)."""
    rng = np.random.default_rng(seed)
    low, high = min(TOPIC_RANKS[0], n_terms - 1), min(TOPIC_RANKS[1], n_terms)
    topics = np.stack([rng.choice(np.arange(low, high), topic_terms, replace=False)
                       for _ in range(n_classes)])
    y = rng.integers(0, n_classes, n_docs)
    lengths = np.maximum(1, rng.poisson(terms_per_doc, n_docs))
    doc = np.repeat(np.arange(n_docs), lengths)
    cumulative = np.cumsum(zipf_probabilities(n_terms))
    words = np.searchsorted(cumulative, rng.random(doc.size) * cumulative[-1])
    words = np.minimum(words, n_terms - 1)
    on_topic = rng.random(doc.size) < topical
    words[on_topic] = topics[y[doc[on_topic]], rng.integers(0, topic_terms, on_topic.sum())]
    counts = sp.csr_matrix((np.ones(doc.size, dtype=np.float32), (doc, words)),
                           shape=(n_docs, n_terms))
    counts.sum_duplicates()
    counts.data = (1 + np.log(counts.data)).astype(np.float32)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags((1 / norms).astype(np.float32)) @ counts)
    X.sort_indices()
    return X, y.astype(np.int64)
