"""Text, pure: Arabic/English normalisation, sentences and tokens (:mod:`.normalize`), and the
FreeDict glossary that lets a question search text in the other language (:mod:`.glossary`)."""

