"""Files -> Documents (:mod:`.loaders`: txt/md/html/pdf, encodings, page furniture) -> Chunks with
exact offsets and ids derived from content (:mod:`.chunking`)."""
