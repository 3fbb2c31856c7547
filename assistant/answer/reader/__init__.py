"""The reader: a span head and a no-answer score over the packaged encoder, trained here.

- :mod:`.spans`: window labels and span decoding (pure);
- :mod:`.data`: SQuAD-format training data, checked, and examples made from it;
- :mod:`.train`: the resumable CPU training loop and the adapter export;
- :mod:`.model`: the reader at run time (the weights come from :mod:`assistant.models.reader`);
- :mod:`.cross_language`: short answers for a reader of the other language;
- :mod:`.answering`: answers with the short answer first, or an honest refusal.
"""

from .answering import ReaderAnswerer, ReaderAnswerSettings
from .model import Reader, ReaderSettings, Reading, load_reader

__all__ = ["Reader", "ReaderAnswerSettings", "ReaderAnswerer", "ReaderSettings", "Reading", "load_reader"]
