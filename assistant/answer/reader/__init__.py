"""The reader: a span head and a no-answer score over the packaged encoder, trained here.

- :mod:`.spans`: window labels and span decoding (pure);
- :mod:`.data`: SQuAD-format training data, checked, and examples made from it;
- :mod:`.train`: the resumable CPU training loop and the adapter export;
- :mod:`.model`: the reader at run time (base encoder + shipped adapter);
- :mod:`.render`: short answers for a reader of the other language;
- :mod:`.answering`: answers with the short answer first, or an honest refusal.
"""

from .answering import ReaderAnswerer, ReaderAnswerSettings
from .model import SHIPPED_ADAPTER, Reader, ReaderSettings, ReaderUnavailable, Reading, load_reader

__all__ = ["SHIPPED_ADAPTER", "Reader", "ReaderAnswerSettings", "ReaderAnswerer", "ReaderSettings",
           "ReaderUnavailable", "Reading", "load_reader"]
