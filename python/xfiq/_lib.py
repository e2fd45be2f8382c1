"""Finds and declares libxfiq (ctypes)."""
import ctypes
import ctypes.util
import os

c_int, c_int64, c_uint64, c_double, c_float, c_char_p, c_void_p = (
    ctypes.c_int, ctypes.c_int64, ctypes.c_uint64, ctypes.c_double, ctypes.c_float, ctypes.c_char_p,
    ctypes.c_void_p)
P = ctypes.POINTER


class ModelInfo(ctypes.Structure):
    _fields_ = [("input_width", c_int), ("input_height", c_int), ("input_channels", c_int),
                ("embedding_dim", c_int), ("channel_order", c_int), ("mean", c_float * 3),
                ("scale", c_float * 3), ("num_params", c_int64), ("macs_per_image", c_double),
                ("name", c_char_p), ("family", c_char_p), ("embedding_layer", c_char_p)]


class SerfiqOpts(ctypes.Structure):
    _fields_ = [("T", c_int), ("p", c_float), ("channel_wise", c_int), ("alpha", c_double), ("r", c_double),
                ("seed", c_uint64)]


class PlqOpts(ctypes.Structure):
    _fields_ = [("serfiq", SerfiqOpts), ("mode", c_int), ("a", c_double), ("b", c_double)]


class Quality(ctypes.Structure):
    _fields_ = [("serfiq_raw", c_float), ("serfiq", c_float), ("magnitude", c_float), ("sum_e", c_float),
                ("mean_plq", c_float), ("unstable", c_int)]


class Image(ctypes.Structure):
    _fields_ = [("data", P(ctypes.c_uint8)), ("width", c_int), ("height", c_int), ("channels", c_int),
                ("reserved", c_int)]


class Landmarks(ctypes.Structure):
    _fields_ = [("pt", (c_float * 2) * 5)]


class QmagParams(ctypes.Structure):
    _fields_ = [("alpha", c_double), ("beta", c_double)]


MAX_FOLDS = 64


class KfoldResult(ctypes.Structure):
    _fields_ = [("n_folds", c_int), ("accuracy", c_double * MAX_FOLDS), ("threshold", c_double * MAX_FOLDS),
                ("acc_mean", c_double), ("acc_std", c_double), ("val_mean", c_double), ("val_std", c_double),
                ("far_mean", c_double)]


class EdcOptions(ctypes.Structure):
    _fields_ = [("mode", c_int), ("fmr", c_double), ("start_fnmr", c_double), ("discard_limit", c_double),
                ("step", c_double), ("subtract_best", c_int)]


class EdcResult(ctypes.Structure):
    _fields_ = [("n_points", c_int64), ("discard", P(c_double)), ("fnmr", P(c_double)), ("best", P(c_double)),
                ("threshold", c_double), ("fnmr0", c_double), ("auc", c_double), ("auc_best", c_double),
                ("convention", c_char_p)]


def _find():
    env = os.environ.get("XFIQ_LIBRARY")
    if env:
        return env
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libxfiq.so")
    if os.path.isfile(here):
        return here
    found = ctypes.util.find_library("xfiq")
    if found:
        return found
    for d in ("/usr/local/lib", "/usr/lib"):
        p = os.path.join(d, "libxfiq.so")
        if os.path.isfile(p):
            return p
    raise ImportError("xfiq: libxfiq.so not found: set XFIQ_LIBRARY=/path/to/libxfiq.so, install the library "
                      "(cmake --install), or install this package with XFIQ_LIBRARY set (README, Python)")


lib = ctypes.CDLL(_find())


def _decl(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)


u8p, f32p, f64p, i64p, i32p, u64p = (P(ctypes.c_uint8), P(c_float), P(c_double), P(c_int64), P(ctypes.c_int32),
                                    P(c_uint64))
_decl("xfiq_last_error", c_char_p)
_decl("xfiq_status_string", c_char_p, c_int)
_decl("xfiq_backend_init", c_int, P(c_void_p), c_int, c_int)
_decl("xfiq_backend_free", None, c_void_p)
_decl("xfiq_model_load", c_int, c_void_p, c_char_p, c_char_p, P(c_void_p))
_decl("xfiq_model_get_info", c_int, c_void_p, P(ModelInfo))
_decl("xfiq_model_free", None, c_void_p)
_decl("xfiq_model_embed", c_int, c_void_p, u8p, c_int, f32p, f32p)
_decl("xfiq_model_is_calibrated", c_int, c_void_p)
_decl("xfiq_model_card_source", c_char_p, c_void_p)
_decl("xfiq_plq_opts_default", None, c_void_p, c_int, P(PlqOpts))
_decl("xfiq_model_serfiq", c_int, c_void_p, u8p, c_int, u64p, P(SerfiqOpts), P(Quality), f32p)
_decl("xfiq_model_plq", c_int, c_void_p, u8p, c_int, u64p, P(PlqOpts), P(Quality), f32p, f32p)
_decl("xfiq_plq_relative_map", c_int, f32p, u8p, c_int, c_int, c_int, c_int, c_double, f32p, f32p)
_decl("xfiq_image_load", c_int, c_char_p, P(Image))
_decl("xfiq_image_load_memory", c_int, c_void_p, ctypes.c_size_t, c_char_p, P(Image))
_decl("xfiq_image_free", None, P(Image))
_decl("xfiq_image_prepare", c_int, P(Image), P(Landmarks), c_int, c_int, u8p)
_decl("xfiq_embeddings_magnitudes", c_int, f32p, c_int64, c_int, f64p)
_decl("xfiq_score_pairs", c_int, f32p, c_int64, c_int, f64p, i64p, i64p, c_int64, P(QmagParams), f64p, f64p, f64p)
_decl("xfiq_qmag_params_resolve", c_int, c_char_p, P(QmagParams))
_decl("xfiq_kfold_assign", c_int, c_int64, c_int, i32p)
_decl("xfiq_kfold_scores", c_int, f64p, u8p, c_int64, i32p, c_int, P(KfoldResult))
_decl("xfiq_edc_options_default", None, c_int, P(EdcOptions))
_decl("xfiq_edc_run", c_int, f64p, u8p, f64p, c_int64, P(EdcOptions), P(EdcResult))
_decl("xfiq_edc_result_free", None, P(EdcResult))
