"""How every model is prepared, exported, quantised, loaded and chosen: the encoders
(:mod:`.embeddings`, the only place they load; e5 converted once by :mod:`.prepare`, run in the
precision :mod:`.precision` picks, or on ONNX Runtime, :mod:`.onnx` and :mod:`.onnx_export`), the
reader's weights (:mod:`.reader`) and the name transliterator (:mod:`.transliterator`)."""
