"""xfiq: face image quality (SER-FIQ, PLQ maps, MagFace magnitude, QMagFace
scores) and face-verification evaluation (10-fold accuracy, EDC), in Python
over the C library libxfiq (ctypes). numpy arrays in and out; errors raise
XfiqError carrying libxfiq's message.

    import xfiq
    m = xfiq.Model("models/.cache/fr_feature.onnx")        # card found beside it or by sha256
    faces = xfiq.load_faces(["a.jpg", "b.jpg"], size=m.input_size)   # N x 112 x 112 x 3 uint8
    q = m.serfiq(faces)                                     # dict of arrays: serfiq, serfiq_raw, magnitude, ...
    maps = m.plq(faces)                                     # absolute and relative PLQ maps, N x H x W
"""
import ctypes

import numpy as np

from . import _lib as L

__all__ = ["XfiqError", "Model", "load_image", "load_faces", "plq_relative", "magnitudes", "pair_scores",
           "kfold_accuracy", "edc"]
__version__ = "0.1.0"


class XfiqError(RuntimeError):
    """A failing libxfiq call: .status (e.g. "XFIQ_ERR_FORMAT") and the message naming file and reason."""

    def __init__(self, status, message):
        self.status = status
        self.message = message
        super().__init__("%s: %s" % (status, message))


def _check(st):
    if st != 0:
        raise XfiqError(L.lib.xfiq_status_string(st).decode(), L.lib.xfiq_last_error().decode(errors="replace"))


def _ptr(a, ctype):
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _faces(faces, h, w):
    a = np.ascontiguousarray(faces, dtype=np.uint8)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[1:] != (h, w, 3):
        raise ValueError("faces must be N x %d x %d x 3 uint8 RGB (aligned); got shape %s" % (h, w, a.shape))
    return a


def load_image(path):
    """Decodes a JPEG/PNG/PGM/PPM file (JPEG exactly as Pillow/OpenCV): H x W x C uint8 (C 1 or 3)."""
    img = L.Image()
    _check(L.lib.xfiq_image_load(str(path).encode(), ctypes.byref(img)))
    shape = (img.height, img.width, img.channels)
    try:
        a = np.ctypeslib.as_array(img.data, shape=(shape[0] * shape[1] * shape[2],)).copy()
    finally:
        L.lib.xfiq_image_free(ctypes.byref(img))
    return a.reshape(shape)


def load_faces(paths, size=(112, 112), landmarks=None):
    """Model inputs (N x H x W x 3 uint8 RGB) of image files: aligned to the ArcFace template with
    landmarks[i] (5 x 2 points) when given, else resized as they are. size = (width, height)."""
    w, h = size
    out = np.empty((len(paths), h, w, 3), np.uint8)
    for i, p in enumerate(paths):
        img = L.Image()
        _check(L.lib.xfiq_image_load(str(p).encode(), ctypes.byref(img)))
        try:
            lm = None
            if landmarks is not None and landmarks[i] is not None:
                lm = L.Landmarks()
                pts = np.asarray(landmarks[i], np.float32).reshape(5, 2)
                for k in range(5):
                    lm.pt[k][0], lm.pt[k][1] = float(pts[k, 0]), float(pts[k, 1])
            _check(L.lib.xfiq_image_prepare(ctypes.byref(img), ctypes.byref(lm) if lm else None, w, h,
                                            _ptr(out[i], ctypes.c_uint8)))
        finally:
            L.lib.xfiq_image_free(ctypes.byref(img))
    return out


class Model:
    """An ONNX face-recognition model with its card (preprocessing, calibration)."""

    def __init__(self, onnx_path, card=None, threads=0):
        self._be = ctypes.c_void_p()
        self._m = ctypes.c_void_p()
        _check(L.lib.xfiq_backend_init(ctypes.byref(self._be), 0, int(threads)))
        st = L.lib.xfiq_model_load(self._be, str(onnx_path).encode(), str(card).encode() if card else None,
                                   ctypes.byref(self._m))
        if st != 0:
            L.lib.xfiq_backend_free(self._be)
            self._be = None
            _check(st)
        info = L.ModelInfo()
        _check(L.lib.xfiq_model_get_info(self._m, ctypes.byref(info)))
        self.info = {k: getattr(info, k) for k, _ in L.ModelInfo._fields_}
        for k in ("name", "family", "embedding_layer"):
            self.info[k] = self.info[k].decode()
        self.info["mean"], self.info["scale"] = list(info.mean), list(info.scale)
        self.input_size = (info.input_width, info.input_height)
        self.dim = info.embedding_dim
        self.calibrated = bool(L.lib.xfiq_model_is_calibrated(self._m))
        self.card_source = L.lib.xfiq_model_card_source(self._m).decode()

    def close(self):
        if getattr(self, "_m", None):
            L.lib.xfiq_model_free(self._m)
            self._m = None
        if getattr(self, "_be", None):
            L.lib.xfiq_backend_free(self._be)
            self._be = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _in(self, faces):
        return _faces(faces, self.input_size[1], self.input_size[0])

    def embed(self, faces):
        """Raw embeddings (N x D float32) and their magnitudes (N,) of aligned faces."""
        a = self._in(faces)
        n = len(a)
        emb = np.empty((n, self.dim), np.float32)
        mag = np.empty(n, np.float32)
        _check(L.lib.xfiq_model_embed(self._m, _ptr(a, ctypes.c_uint8), n, _ptr(emb, ctypes.c_float),
                                      _ptr(mag, ctypes.c_float)))
        return emb, mag

    def _opts(self, published, T, p, seed, alpha, r, mode, a, b):
        o = L.PlqOpts()
        L.lib.xfiq_plq_opts_default(self._m, int(published), ctypes.byref(o))
        if T is not None:
            o.serfiq.T = int(T)
        if p is not None:
            o.serfiq.p = float(p)
        if seed is not None:
            o.serfiq.seed = int(seed)
        if alpha is not None:
            o.serfiq.alpha = float(alpha)
        if r is not None:
            o.serfiq.r = float(r)
        if mode is not None:
            o.mode = {"paper": 0, "signed": 1, "magnitude": 2}[mode]
        if a is not None:
            o.a = float(a)
        if b is not None:
            o.b = float(b)
        return o

    @staticmethod
    def _qdict(q):
        return {k: np.array([getattr(x, k) for x in q]) for k, _ in L.Quality._fields_}

    @staticmethod
    def _ids(ids, n):
        if ids is None:
            return None
        ids = np.ascontiguousarray(ids, np.uint64)
        if ids.shape != (n,):
            raise ValueError("ids must have one entry per face")
        return ids

    def serfiq(self, faces, T=None, p=None, seed=None, ids=None, published=False, alpha=None, r=None):
        """SER-FIQ of aligned faces: dict of arrays serfiq (scaled), serfiq_raw, magnitude, sum_e.
        ids: the image ids of the dropout masks (default 0..N-1, as the CLI's input order)."""
        a = self._in(faces)
        n = len(a)
        o = self._opts(published, T, p, seed, alpha, r, None, None, None)
        q = (L.Quality * n)()
        ids = self._ids(ids, n)
        _check(L.lib.xfiq_model_serfiq(self._m, _ptr(a, ctypes.c_uint8), n,
                                       _ptr(ids, ctypes.c_uint64) if ids is not None else None,
                                       ctypes.byref(o.serfiq), q, None))
        d = self._qdict(q)
        d.pop("mean_plq")
        return d

    def plq(self, faces, T=None, p=None, seed=None, ids=None, published=False, mode=None, a=None, b=None):
        """PLQ maps of aligned faces: dict with 'map' (N x H x W, the published P), 'relative'
        (|gradient| x local detail over each face's own median, xfiq_plq_relative_map), 'grad_mag' and the
        qualities (serfiq, serfiq_raw, magnitude, sum_e, mean_plq, unstable)."""
        x = self._in(faces)
        n = len(x)
        o = self._opts(published, T, p, seed, None, None, mode, a, b)
        q = (L.Quality * n)()
        w, h = self.input_size
        maps = np.empty((n, h, w), np.float32)
        grad = np.empty((n, h, w), np.float32)
        ids = self._ids(ids, n)
        _check(L.lib.xfiq_model_plq(self._m, _ptr(x, ctypes.c_uint8), n,
                                    _ptr(ids, ctypes.c_uint64) if ids is not None else None, ctypes.byref(o), q,
                                    _ptr(maps, ctypes.c_float), _ptr(grad, ctypes.c_float)))
        d = self._qdict(q)
        d.update(map=maps, grad_mag=grad, relative=plq_relative(grad, x, o.b))
        return d


def plq_relative(grad_mag, faces, b=2.0):
    """Relative PLQ maps (N x H x W or H x W) from gradient magnitudes and the faces they came from
    (N x H x W x C or H x W x C uint8): |gradient| x local detail over its face median
    (xfiq_plq_relative_map)."""
    g = np.ascontiguousarray(grad_mag, np.float32)
    x = np.ascontiguousarray(faces, np.uint8)
    one = g.ndim == 2
    if one:
        g, x = g[None], x[None]
    if g.ndim != 3 or x.ndim != 4 or x.shape[:3] != g.shape:
        raise ValueError("grad_mag (N x H x W) and faces (N x H x W x C) do not match: %s, %s" % (g.shape, x.shape))
    out = np.empty_like(g)
    _check(L.lib.xfiq_plq_relative_map(_ptr(g, ctypes.c_float), _ptr(x, ctypes.c_uint8), g.shape[0], g.shape[1],
                                       g.shape[2], x.shape[3], float(b), _ptr(out, ctypes.c_float), None))
    return out[0] if one else out


def magnitudes(embeddings):
    """MagFace quality: ||z|| of raw embeddings (N x D), in double."""
    z = np.ascontiguousarray(embeddings, np.float32)
    out = np.empty(len(z), np.float64)
    _check(L.lib.xfiq_embeddings_magnitudes(_ptr(z, ctypes.c_float), len(z), z.shape[1], _ptr(out, ctypes.c_double)))
    return out


def pair_scores(embeddings, idx_a, idx_b, qmag=None):
    """Cosine scores of pairs (rows idx_a[i], idx_b[i] of the raw embeddings), the pair magnitude
    min(|z_a|, |z_b|), and the QMagFace scores when qmag is given ("magface-100", a JSON file, or
    (alpha, beta)). Returns (cos, q, qmag_scores or None)."""
    z = np.ascontiguousarray(embeddings, np.float32)
    a = np.ascontiguousarray(idx_a, np.int64)
    b = np.ascontiguousarray(idx_b, np.int64)
    n = len(a)
    cos, q = np.empty(n), np.empty(n)
    qs = np.empty(n) if qmag is not None else None
    par = None
    if qmag is not None:
        par = L.QmagParams()
        if isinstance(qmag, str):
            _check(L.lib.xfiq_qmag_params_resolve(qmag.encode(), ctypes.byref(par)))
        else:
            par.alpha, par.beta = float(qmag[0]), float(qmag[1])
    _check(L.lib.xfiq_score_pairs(_ptr(z, ctypes.c_float), len(z), z.shape[1], None, _ptr(a, ctypes.c_int64),
                                  _ptr(b, ctypes.c_int64), n, ctypes.byref(par) if par else None,
                                  _ptr(cos, ctypes.c_double), _ptr(q, ctypes.c_double),
                                  _ptr(qs, ctypes.c_double) if qs is not None else None))
    return cos, q, qs


def kfold_accuracy(scores, labels, n_folds=10, folds=None):
    """10-fold accuracy, QMagFace protocol (600 thresholds linspace(min, max), genuine iff score > t;
    folds = consecutive blocks unless given). Returns dict: accuracy (per fold), threshold, mean, std."""
    s = np.ascontiguousarray(scores, np.float64)
    y = np.ascontiguousarray(labels, np.uint8)
    n = len(s)
    if folds is None:
        f = np.empty(n, np.int32)
        _check(L.lib.xfiq_kfold_assign(n, n_folds, _ptr(f, ctypes.c_int32)))
    else:
        f = np.ascontiguousarray(folds, np.int32)
        n_folds = int(f.max()) + 1
    r = L.KfoldResult()
    _check(L.lib.xfiq_kfold_scores(_ptr(s, ctypes.c_double), _ptr(y, ctypes.c_uint8), n, _ptr(f, ctypes.c_int32),
                                   n_folds, ctypes.byref(r)))
    k = r.n_folds
    return {"accuracy": np.array(r.accuracy[:k]), "threshold": np.array(r.threshold[:k]), "mean": r.acc_mean,
            "std": r.acc_std}


def edc(scores, labels, pair_quality, convention="fixed", fmr=1e-3, start_fnmr=0.0, discard_limit=None,
        step=0.05, subtract_best=False):
    """Error-versus-discard curve in one of the two conventions of SPEC 12: "fixed" (threshold set
    once on all pairs, at fmr or at the starting FNMR; step curve; partial area up to discard_limit,
    0.2, optionally less the theoretical best) or "recompute" (CR-FIQA/MagFace: discard 0, step, ...,
    0.95, threshold chosen again at fmr; trapezoid area). Returns dict: convention, discard, fnmr,
    best (fixed), threshold, fnmr0, auc, auc_best."""
    s = np.ascontiguousarray(scores, np.float64)
    y = np.ascontiguousarray(labels, np.uint8)
    q = np.ascontiguousarray(pair_quality, np.float64)
    mode = {"fixed": 0, "recompute": 1}[convention]
    o = L.EdcOptions()
    L.lib.xfiq_edc_options_default(mode, ctypes.byref(o))
    o.fmr, o.start_fnmr, o.step, o.subtract_best = float(fmr), float(start_fnmr), float(step), int(subtract_best)
    if discard_limit is not None:
        o.discard_limit = float(discard_limit)
    r = L.EdcResult()
    _check(L.lib.xfiq_edc_run(_ptr(s, ctypes.c_double), _ptr(y, ctypes.c_uint8), _ptr(q, ctypes.c_double), len(s),
                              ctypes.byref(o), ctypes.byref(r)))
    try:
        k = r.n_points
        out = {"convention": r.convention.decode(), "discard": np.ctypeslib.as_array(r.discard, (k,)).copy(),
               "fnmr": np.ctypeslib.as_array(r.fnmr, (k,)).copy(),
               "best": np.ctypeslib.as_array(r.best, (k,)).copy() if r.best else None, "threshold": r.threshold,
               "fnmr0": r.fnmr0, "auc": r.auc, "auc_best": r.auc_best}
    finally:
        L.lib.xfiq_edc_result_free(ctypes.byref(r))
    return out
