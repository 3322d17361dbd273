"""
# Text classification on sparse input, against scikit-learn

Bag-of-words features have tens of thousands of columns and a few non-zeros
per row: fastmlp trains on the SciPy CSR matrix as it is, its first layer
running over each row's stored entries, and never makes it dense. The
documents here are generated (no labelled text corpus ships with an installed
package): a Zipf vocabulary of 20,000 terms, about 100 terms per document,
and 10 topics whose own words make up a tenth of each document. fastmlp and
scikit-learn train the same network on the same matrix. The first fastmlp fit
of a session also loads its compiled kernels from the on-disk cache, so it is
run once before timing.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from fastmlp import MLPClassifier

rng = np.random.default_rng(0)
n_docs, n_terms, n_topics = 6000, 20_000, 10
zipf = np.cumsum(1 / np.arange(1, n_terms + 1))
topics = rng.choice(np.arange(100, n_terms), (n_topics, 300))
y = rng.integers(0, n_topics, n_docs)
doc = np.repeat(np.arange(n_docs), rng.poisson(100, n_docs))
words = np.minimum(np.searchsorted(zipf, rng.random(doc.size) * zipf[-1]), n_terms - 1)
topical = rng.random(doc.size) < 0.1
words[topical] = topics[y[doc[topical]], rng.integers(0, 300, topical.sum())]
counts = sp.csr_matrix((np.ones(doc.size, np.float32), (doc, words)), (n_docs, n_terms))
X = sp.csr_matrix(sp.diags(1 / np.sqrt(counts.multiply(counts).sum(axis=1).A1)) @ counts,
                  dtype=np.float32)  # unit rows, as TF-IDF leaves them
print(f"X: {X.shape[0]} x {X.shape[1]}, {X.nnz / X.shape[0]:.0f} stored entries per row, "
      f"{(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e6:.1f} MB as CSR, "
      f"{X.shape[0] * X.shape[1] * 4 / 1e6:.0f} MB dense")

train, test = slice(0, 5000), slice(5000, None)
params = dict(hidden_layer_sizes=(64,), batch_size=128, max_iter=8, random_state=0)
MLPClassifier(**dict(params, max_iter=1)).fit(X[:500], y[:500])  # load the kernels

results = {}
for name, kind in [("fastmlp", MLPClassifier), ("scikit-learn", SkMLPClassifier)]:
    model = kind(**params)
    started = time.perf_counter()
    model.fit(X[train], y[train])
    seconds = time.perf_counter() - started
    results[name] = (model, seconds)
    print(f"{name:12} {model.n_iter_} epochs in {seconds:.2f} s, test accuracy "
          f"{model.score(X[test], y[test]):.3f}")

# %%
# The training loss after each epoch:
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, (model, seconds) in results.items():
    ax.plot(range(1, model.n_iter_ + 1), model.loss_curve_, marker="o",
            label=f"{name} ({seconds:.1f} s)")
ax.set(xlabel="epoch", ylabel="training loss", title="The same network on the same CSR matrix")
ax.legend()
plt.show()
