"""The data layer's machinery: downloads, the cache, and the file formats read.

The public loaders ([fastmlp.datasets][fastmlp.datasets]: ``load_mnist`` and
the rest) use it; it imports nothing of the estimators or the engine.

Which path runs when:

- ``load_dataset(name)``: the cache ([cache][fastmlp.data.cache]) serves the
  parsed copy when its digest matches; otherwise the raw ``.gz`` file is read
  ([idx][fastmlp.data.idx]) after [downloads][fastmlp.data.downloads] fetched it
  from a mirror, pinned by sha256, or after it was imported from a folder.
- ``fastmlp train --data FILE.npz``: [npzdata][fastmlp.data.npzdata] checks the
  members' headers ([npyfile][fastmlp.data.npyfile], the one ``.npy`` header
  reader, which the model file format uses too) before reading any data.
"""
