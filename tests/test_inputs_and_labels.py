"""What MLPClassifier trains on and predicts: uint8, float and image input, labels of any
type, and probabilities whose columns follow ``classes_``."""

import numpy as np
import pytest
from fithelp import FAST, max_rel_diff, params_of

from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def test_uint8_float32_float64_inputs_agree(mnist_slice):
    x8, y = mnist_slice
    kwargs = dict(
        hidden_layer_sizes=(32,),
        solver="sgd",
        learning_rate_init=0.1,
        momentum=0.9,
        batch_size=100,
        max_iter=3,
        random_state=0,
    )
    m8 = MLPClassifier(**kwargs).fit(x8, y)
    m32 = MLPClassifier(**kwargs).fit((x8 / 255.0).astype(np.float32), y)
    m64 = MLPClassifier(**kwargs).fit(x8 / 255.0, y)
    # default dtype: float32 for uint8 and float32 input, float64 otherwise
    assert m8.coefs_[0].dtype == m32.coefs_[0].dtype == np.float32
    assert m64.coefs_[0].dtype == np.float64
    assert max_rel_diff(m8, m32) <= 1e-5
    assert max_rel_diff(m8, m64) <= 1e-5
    assert max_rel_diff(m32, m64) <= 1e-5
    # with the same float64 arithmetic, uint8 and x/255 agree to float64 rounding
    m8_64 = MLPClassifier(**kwargs, dtype="float64").fit(x8, y)
    assert m8_64.coefs_[0].dtype == np.float64
    assert max_rel_diff(m8_64, m64) <= 1e-12
    np.testing.assert_allclose(m8_64.loss_curve_, m64.loss_curve_, rtol=1e-12)
    # predictions accept either representation
    np.testing.assert_array_equal(m8_64.predict(x8), m64.predict(x8 / 255.0))


def test_image_input_is_flattened(mnist_slice):
    x8, y = mnist_slice
    images = x8[:300].reshape(300, 28, 28)
    kwargs = dict(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    m3 = MLPClassifier(**kwargs).fit(images, y[:300])
    m2 = MLPClassifier(**kwargs).fit(x8[:300], y[:300])
    assert m3.n_features_in_ == 784
    assert m3.coefs_[0].shape == (784, 16)
    for p, q in zip(params_of(m3), params_of(m2), strict=True):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(m3.predict(images), m3.predict(x8[:300]))
    np.testing.assert_array_equal(m3.predict_proba(images), m2.predict_proba(x8[:300]))


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([-7, 3, 1000]),
        np.array([1.0, 10.0, 99.0]),
        np.array([True, False]),
    ],
    ids=["str", "sparse-int", "float", "bool"],
)
def test_arbitrary_labels_round_trip(labels, blobs):
    X, index = blobs(n_classes=len(labels))
    y = labels[index]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.unique(labels))
    predicted = model.predict(X)
    assert predicted.dtype == y.dtype
    assert set(predicted.tolist()) <= set(labels.tolist())
    assert np.mean(predicted == y) >= 0.95
    assert model.score(X, y) == pytest.approx(np.mean(predicted == y))
    # predict_proba columns follow classes_
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], predicted)


def test_labels_given_as_list_of_strings(blobs):
    X, index = blobs()
    y = [["a", "b", "c"][i] for i in index]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "c"]
    assert np.mean(model.predict(X) == np.array(y)) >= 0.95


@pytest.mark.parametrize("output_activation", ["softmax", "logistic"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_predict_proba_is_a_distribution(output_activation, loss, blobs):
    X, y = blobs(n_classes=4)
    model = MLPClassifier(**FAST, output_activation=output_activation, loss=loss).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (X.shape[0], 4)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-12)
    assert model.out_activation_ == output_activation


def _images(blobs, n=60, shape=(6, 6), seed=0):
    X, y = blobs(n=n, n_features=shape[0] * shape[1], seed=seed)
    return X.reshape(n, *shape), y


@pytest.mark.parametrize("other", [(3, 12), (12, 3), (36, 1), (1, 36), (2, 18)])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "partial_fit", "warm_fit"])
def test_images_of_another_shape_are_refused(blobs, other, method):
    """Same pixel count, other image shape: refused, naming both shapes."""
    X, y = _images(blobs)
    model = MLPClassifier(**FAST, warm_start=method == "warm_fit").fit(X, y)
    assert model.image_shape_ == (6, 6)
    wrong = X.reshape(len(X), *other)
    call = {
        "predict": lambda: model.predict(wrong),
        "predict_proba": lambda: model.predict_proba(wrong),
        "partial_fit": lambda: model.partial_fit(wrong, y),
        "warm_fit": lambda: model.fit(wrong, y),
    }[method]
    with pytest.raises(ValueError, match=r"\(6, 6\)") as error:
        call()
    assert str(other) in str(error.value)


def test_flattened_images_and_image_models_mix_as_documented(blobs):
    X, y = _images(blobs)
    model = MLPClassifier(**FAST).fit(X, y)
    flat = X.reshape(len(X), -1)
    # flattened input of the right width is the documented equivalent
    np.testing.assert_array_equal(model.predict(flat), model.predict(X))
    # a model fitted on flat rows has no image shape to compare with
    flat_model = MLPClassifier(**FAST).fit(flat, y)
    assert flat_model.image_shape_ is None
    assert flat_model.predict(X.reshape(len(X), 4, 9)).shape == (len(X),)
    # a transposed stack of square images has the same shape: not detectable (documented)
    assert model.predict(X.transpose(0, 2, 1)).shape == (len(X),)
    # a fresh fit takes the new shape
    refit = model.fit(X.reshape(len(X), 4, 9), y)
    assert refit.image_shape_ == (4, 9)
