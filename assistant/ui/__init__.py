"""Thin shells over the public API: the command line (:mod:`.cli`), the web chat (:mod:`.web`,
``assistant serve``) and the HTML both render (:mod:`.html`)."""
