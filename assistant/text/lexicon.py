"""Arabic word lists, each once: digits, months and the affixes stripped for each job. Pure data.

The affix lists differ on purpose: light stemming for search folds conjunction+article clusters
(``وبال``), names are matched across scripts with the common proclitics only, and content words
are compared after stripping pronoun suffixes too.
"""

from __future__ import annotations

#: Arabic-Indic and Persian digits -> ASCII (``str.translate`` table).
EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
#: A regex character class body matching a digit in any of those scripts.
DIGIT_CLASS = "0-9\u0660-\u0669\u06f0-\u06f9"

#: English month -> its Arabic names (Egyptian-style first, then the Levantine one), normalised spelling.
MONTHS = {
    "january": ("يناير", "كانون الثاني"), "february": ("فبراير", "شباط"), "march": ("مارس", "اذار"),
    "april": ("ابريل", "نيسان"), "may": ("مايو", "ايار"), "june": ("يونيو", "حزيران"),
    "july": ("يوليو", "تموز"), "august": ("اغسطس", "اب"), "september": ("سبتمبر", "ايلول"),
    "october": ("اكتوبر", "تشرين الاول"), "november": ("نوفمبر", "تشرين الثاني"),
    "december": ("ديسمبر", "كانون الاول"),
}

#: Arabic weekday -> English, the Arabic normalised (``normalize_arabic``: no hamza, ه for ة).
WEEKDAYS = {
    "الاثنين": "Monday", "الثلاثاء": "Tuesday", "الاربعاء": "Wednesday", "الخميس": "Thursday",
    "الجمعه": "Friday", "السبت": "Saturday", "الاحد": "Sunday",
}
#: English weekday -> Arabic as a reply writes it.
WEEKDAYS_WRITTEN_AR = {"Monday": "الاثنين", "Tuesday": "الثلاثاء", "Wednesday": "الأربعاء", "Thursday": "الخميس",
                       "Friday": "الجمعة", "Saturday": "السبت", "Sunday": "الأحد"}

#: Light stemming for search (BM25, word overlap): conjunction, preposition and article clusters.
STEM_PREFIXES = ("وبال", "فبال", "وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل")
#: Light stemming for search: plural, dual, feminine and possessive endings.
STEM_SUFFIXES = ("ون", "ين", "ان", "ات", "ه", "ا", "ي")
#: Proclitics stripped before a name is matched across scripts (Mazloum ~ مظلوم, والمظلوم).
NAME_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")
#: Endings stripped before a sentence's content words are compared with a passage's (pronouns too).
CORE_SUFFIXES = ("هما", "هم", "هن", "ها", "كم", "نا", "ات", "ون", "ين", "ان", "يه", "ه", "ي", "ا")

#: Words an answer adds around what it takes from a passage without claiming anything of it:
#: fillers, connectives, the words that frame an answer ("the total number", "according to the
#: sources") and verbs that report a speaker. Function words of the stopword lists are not repeated.
DISCOURSE_WORDS = frozenset(
    """
    نعم بالتأكيد التأكيد تأكيد طبعا بالطبع عموما بشكل عام إجمالا باختصار ببساطة تقريبا حوالي قرابة يقارب
    فقط كذلك كما إذ حيث عندما بينما لكن ولكن بل أما إما لذلك لذا بالتالي بالإضافة إضافة علاوة جميع كافة هناك هنا
    الإجابة الإجابه الجواب عدد العدد إجمالي الإجمالي مجموع المجموع حصيلة الحصيلة اسم نوع مدة المدة
    المصادر المصدر مصادر مصدر المستند المستندات النص المقال المقالة الخبر التقرير الفقرة
    قال قالت يقول تقول ذكر ذكرت يذكر تذكر أفاد أفادت أشار أشارت أكد أكدت أعلن أعلنت أوضح أوضحت أضاف أضافت
    بلغ بلغت يبلغ تبلغ
    yes certainly sure indeed overall generally general total number answer source sources document documents
    text article passage report reports reported said stated states noted added approximately roughly nearly
    around only
    """.split()
)

#: Question words, with the conjunctions and prepositions written onto them (normalised spelling):
#: they ask, they do not name what is asked about.
AR_QUESTION_WORDS = frozenset(
    prefix + word for prefix in ("", "و", "ف", "ب", "وب", "ل", "ول")
    for word in ("ما", "ماذا", "متي", "اين", "كيف", "لماذا", "كم", "هل", "من", "اي", "ايه", "هو", "هي", "هم")
)
EN_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how many much did does do is are was were".split())

#: A preposition or noun with a pronoun written onto it that points back at the last turn's subject
#: (normalised spelling) -> the word without the pronoun, where the referent can take its place
#: ("بحسبها" -> "بحسب" + the agency), or "" where it is appended instead (a partitive "منهم": of them).
AR_REFERRING_CLITICS = {
    **{f"{stem}{suffix}": stem for stem in ("بحسب", "حسب", "عن", "في", "علي", "الي", "مع", "لدي", "ضد", "وفق")
       for suffix in ("ها", "ه", "هم")},
    "فيه": "في", "عليه": "علي", "اليه": "الي",
    **{f"{stem}{suffix}": "" for stem in ("من", "ل", "ب", "عند", "بين", "نفس")
       for suffix in ("ها", "ه", "هم")},
    "قاله": "", "قالته": "", "اعلنته": "", "اعلنه": "",
}

#: Words that narrow what a question asks about (who was counted, what happened to them): a passage
#: that never states one does not answer the question, however well it fits the rest ("How many
#: civilians were wounded?" over "seven civilians were killed"). English forms, and Arabic ones in
#: normalised spelling.
CONSTRAINT_WORDS = frozenset(
    """
    children child kids women woman girls boys elderly wounded injured arrested detained kidnapped abducted
    missing civilians civilian foreign foreigners journalists doctors students refugees displaced
    american americans russian russians turkish iranian british french
    اطفال الاطفال طفل نساء النساء امراه جرحي الجرحي مصابين المصابين معتقلين المعتقلين مفقودين المفقودين
    مختطفين مدنيين المدنيين مدنيون صحفيين الصحفيين لاجئين نازحين اجانب الاجانب امريكي امريكيين الامريكيين
    روس الروس اتراك ايرانيين
    """.split()
)

#: Words that say what kind of source a source is, not which one ("وكالة أعماق", "حصيلة المرصد", "the SDF
#: media centre"): two names of a source are the same source when they share another word (normalised).
SOURCE_KIND_WORDS = frozenset(
    """
    وكاله الوكاله مركز المركز الاعلامي اعلامي مصدر المصدر مصادر المصادر حصيله بيان البيان تقرير ناطق المتحدث
    agency centre center media source sources toll statement report spokesman spokesperson news
    """.split()
)

#: The sense of common news words that fits a news report, where FreeDict's first translation does not
#: ("منشورات": leaflets, not encyclicals; "مئات": hundreds, not hundredths). Normalised spelling, no
#: article: looked up after clitics are stripped. Adjectives are in NEWS_ADJECTIVES as well.
NEWS_SENSES = {
    "عشرات": "dozens", "مئات": "hundreds", "الاف": "thousands", "ملايين": "millions",
    "منشورات": "leaflets", "خلايا": "cells", "خليه": "cell", "سجن": "prison", "سجون": "prisons",
    "سجناء": "prisoners", "سجين": "prisoner", "سجينا": "prisoners", "محتجزين": "detainees", "محتجزون": "detainees",
    "عناصر": "members", "عنصر": "member", "عنصرا": "members", "مقاتلين": "fighters", "مقاتلون": "fighters",
    "قتلى": "dead", "جرحى": "wounded", "مدنيين": "civilians", "مدنيون": "civilians", "مدني": "civilian",
    "شخصا": "people", "اشخاص": "people", "حراس": "guards", "هجوم": "attack", "اشتباكات": "clashes",
    "سياره": "car", "مفخخه": "booby-trapped", "طائرات": "aircraft", "مروحيه": "helicopter", "مروحيات": "helicopters",
    "قصف": "shelling", "غارات": "air strikes", "غاره": "air strike", "هدنه": "truce", "اتفاق": "agreement",
    "قسم": "part", "حي": "district", "احياء": "districts", "مدينه": "city", "منطقه": "area", "محيط": "vicinity",
    "خارج": "outside", "داخل": "inside", "مكافاه": "reward", "ماليه": "financial", "تعزيزات": "reinforcements",
    "عسكريه": "military", "امنيه": "security", "مصادر": "sources", "مصدر": "source", "وكاله": "agency",
    "بيان": "statement", "تسجيلا": "recording", "مصورا": "video", "اليات": "vehicles", "اليه": "vehicle",
    "رشاشات": "machine guns", "ثقيله": "heavy", "مدفعيه": "artillery", "قوات": "forces", "قوه": "force",
    "جنوبي": "southern", "شمالي": "northern", "شرقي": "eastern", "غربي": "western", "جنوب": "south",
    "شمال": "north", "شرق": "east", "غرب": "west", "قياده": "command", "قيادات": "leaders", "زعيم": "leader",
    "الهاربين": "fugitives", "فارين": "escapees", "الفارين": "escapees", "الاهالي": "residents", "اهالي": "residents",
    "ارهابيه": "terrorist", "ارهابي": "terrorist", "ارهاب": "terrorism", "تنظيم": "group", "فيضان": "flood",
    "حريق": "fire", "ميناء": "port", "مرفا": "port",
}
#: Words of NEWS_SENSES that are adjectives: in English they go before the noun they follow.
NEWS_ADJECTIVES = frozenset({"مفخخه", "ماليه", "عسكريه", "امنيه", "ثقيله", "جنوبي", "شمالي", "شرقي", "غربي",
                             "ارهابيه", "ارهابي"})

#: Words that make a number a length of time (normalised spelling).
TIME_UNITS = frozenset({
    "يوم", "يوما", "يومين", "ايام", "ساعه", "ساعات", "ساعتين", "اسبوع", "اسبوعين", "اسابيع", "شهر", "شهرين",
    "اشهر", "شهور", "سنه", "سنتين", "سنوات", "عام", "عامين", "اعوام", "دقيقه", "دقائق", "day", "days", "hour",
    "hours", "week", "weeks", "month", "months", "year", "years", "minute", "minutes", "decade", "decades",
    "century", "centuries",
})

#: Words by which a question asks for an exact figure: "several hours" does not answer it (normalised).
EXACT_WORDS = frozenset("تحديدا بالتحديد بالضبط بدقه exactly precisely exact precise".split())

#: Names whose English and Arabic forms share no consonant skeleton, and English words of
#: institution names ("Syrian Observatory for Human Rights") that are translated, not transliterated.
#: Values are normalised Arabic stems looked for inside a passage (the checks of :mod:`assistant.verify`
#: hold a sentence's names to its passage with them; FreeDict's glossary is :mod:`.glossary`).
NAME_WORDS_EN_AR: dict[str, tuple[str, ...]] = {
    "sdf": ("قسد", "قوات سوريا الديمقراطيه", "قوات سوريا الديموقراطيه"),
    "is": ("تنظيم", "داعش", "الدوله الاسلاميه"), "isis": ("تنظيم", "داعش", "الدوله الاسلاميه"),
    "isil": ("تنظيم", "داعش", "الدوله الاسلاميه"), "daesh": ("داعش", "تنظيم"),
    "islamic": ("اسلامي", "تنظيم الدوله"), "state": ("دوله",), "syria": ("سوري",), "syrian": ("سوري",),
    "democratic": ("ديمقراطي", "ديموقراطي"), "forces": ("قوات", "قوي"), "force": ("قوات", "قوه"),
    "observatory": ("مرصد",), "human": ("انسان",), "rights": ("حقوق",), "coalition": ("تحالف",),
    "international": ("دولي",), "global": ("دولي",), "media": ("اعلام",), "centre": ("مركز",),
    "center": ("مركز",), "agency": ("وكاله",), "news": ("اخبار", "انباء", "وكاله"), "prison": ("سجن",),
    "jail": ("سجن",), "army": ("جيش",), "government": ("حكوم",), "police": ("شرط",), "security": ("امن",),
    "internal": ("داخلي",), "commander": ("قائد",), "general": ("عام",), "chief": ("قائد", "عام"),
    "leader": ("زعيم", "قائد"), "president": ("رئيس",), "minister": ("وزير",), "ministry": ("وزار",),
    "council": ("مجلس",), "united": ("متحد", "امريك"), "nations": ("امم",), "un": ("الامم المتحده",),
    "us": ("امريك", "الولايات المتحده"), "usa": ("امريك", "الولايات المتحده"), "america": ("امريك",),
    "american": ("امريك",), "states": ("ولايات", "دول"), "kurdish": ("كرد",), "kurds": ("كرد",),
    "kurd": ("كرد",), "arab": ("عرب",), "arabs": ("عرب",), "iraq": ("عراق",), "iraqi": ("عراق",),
    "turkey": ("ترك",), "turkish": ("ترك",), "russia": ("روس",), "russian": ("روس",), "iran": ("ايران",),
    "counter": ("مكافحه",), "terrorism": ("ارهاب",), "anti": ("مكافحه",), "special": ("خاص",),
    "operations": ("عمليات",), "red": ("احمر",), "crescent": ("هلال",), "cross": ("صليب",),
    "north": ("شمال",), "northeast": ("شمال شرق",), "south": ("جنوب",), "east": ("شرق",), "west": ("غرب",),
    "northern": ("شمال",), "southern": ("جنوب",), "eastern": ("شرق",), "western": ("غرب",),
    "city": ("مدين",), "province": ("محافظ",), "governorate": ("محافظ",), "neighbourhood": ("حي",),
    "neighborhood": ("حي",), "district": ("حي",), "observatory's": ("مرصد",),
}
