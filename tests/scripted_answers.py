"""Scripted LLM answers over the shipped question set, for calibration, tests and the benchmark.

Markers are placeholders resolved against the passages retrieved for the question:
``{E}`` is the first passage holding the question's first evidence, ``{E2}`` the one holding its
second, ``{W}`` a retrieved passage holding no evidence at all. Literal markers such as ``[9]``
stay as written.
"""

from __future__ import annotations

#: One correct, LLM-style answer per answerable question, in the question's language.
CORRECT: dict[str, str] = {
    "ar-01": "بلغ عدد القتلى 136 شخصاً على الأقل بحسب المرصد السوري لحقوق الإنسان {E}.",
    "ar-02": "قُتل 84 من عناصر تنظيم الدولة وفق حصيلة المرصد السوري {E}.",
    "ar-03": "قُتل 45 من الأسايش وحراس السجن وقوات مكافحة الإرهاب وقسد {E}.",
    "ar-04": "قُتل سبعة مدنيين بحسب المرصد السوري لحقوق الإنسان {E}.",
    "ar-05": "أورد المرصد السوري لحقوق الإنسان حصيلة ضحايا الاشتباكات {E}.",
    "ar-06": "قتلت قسد 13 من عناصر تنظيم الدولة الذين هاجموا السجن صباح الأحد، بحسب مركزها الإعلامي {E}.",
    "ar-07": "ارتفع عدد قتلى التنظيم إلى 35 عنصراً بحسب المركز الإعلامي لقوات سوريا الديمقراطية {E}.",
    "ar-08": "قالت قسد إن عدد الفارين من السجن يقدر بحدود 80 سجيناً، وإنها ألقت القبض على أكثرهم {E}.",
    "ar-09": "أكدت وكالة أعماق أن عدد الفارين من السجن بلغ 800 عنصر من التنظيم {E}.",
    "ar-10": "قالت أعماق إن عناصر التنظيم أحرقوا نحو 25 آلية متنوعة {E}.",
    "ar-11": "استولى التنظيم على 4 آليات دفع رباعي مزودة برشاشات ثقيلة بحسب وكالة أعماق {E}.",
    "ar-12": "ظهر في التسجيل المصور 4 من عناصر قسد يناشدون زعيمهم إطلاق سراحهم {E}.",
    "ar-13": "دارت الاشتباكات الأخيرة خلال الساعات الـ24 الماضية بحسب المصدر العسكري من قسد {E}.",
    "ar-14": "القائد العام لقوات سوريا الديمقراطية هو «مظلوم عبدي» {E}.",
    "ar-15": "الوكالة الإعلامية التابعة لتنظيم الدولة هي وكالة «أعماق» {E}.",
    "ar-16": "تجددت الاشتباكات حول سجن الصناعة فجر يوم الاثنين {E}.",
    "ar-17": "ألقت مروحيات التحالف الدولي المنشورات فوق مدينة الحسكة يوم الأحد {E}.",
    "ar-18": "تضمنت المنشورات أرقام هواتف ووعوداً بمكافأة مالية لمن يبلغ عن أي نشاط إرهابي {E}.",
    "ar-19": "نشر تنظيم الدولة مقطع اقتحام السجن يوم السبت {E}.",
    "ar-20": "سيطر سجناء التنظيم على سجن الصناعة مساء الخميس الماضي {E}.",
    "ar-21": "هاجمت خلايا التنظيم السجن من الخارج بسيارة مفخخة استهدفت محيطه {E}.",
    "ar-22": "يقع سجن الصناعة في حي غويران بمدينة الحسكة {E}.",
    "ar-23": "يقع حي غويران في القسم الجنوبي من مدينة الحسكة {E}.",
    "ar-24": "يتحصن مسلحو داعش المحاصرون في القسم الشمالي من سجن الصناعة {E}.",
    "ar-25": "شملت عمليات التمشيط والتفتيش أحياء غويران والزهور ومنطقة المقبرة {E}.",
    "ar-26": "قال قائد قسد إن قواته صدت الهجوم بمساعدة التحالف {E}.",
    "ar-27": "شاركت قوى الأمن الداخلي «الأسايش» في استعادة السيطرة على السجن {E}.",
    "ar-28": "عرضت قسد الضمانات والمغريات على عناصر التنظيم عبر مكبرات الصوت {E}.",
    "ar-29": "استهدفت غارات طائرات التحالف عدداً من المباني المرتفعة التي يتحصن فيها عناصر التنظيم داخل السجن {E}.",
    "ar-30": "يهاجم التنظيم السجن منذ ثلاثة أيام بحسب بيان أعماق {E}.",
    "ar-31": "احتجز السجناء الحراس والموظفين رهائن {E}.",
    "ar-32": "استخدمت قسد المدفعية والرشاشات الثقيلة في استهداف التنظيم داخل السجن {E}.",
    "ar-33": "استمرت الهدنة بين الطرفين عدة ساعات ثم استؤنفت الاشتباكات {E}.",
    "ar-34": "طلب عناصر قسد الأسرى من زعيمهم أن يطلق سراحهم {E}.",
    "ar-35": "وصل السجناء إلى أحد مخازن السلاح خلال الاستعصاء {E}.",
    "ar-36": "تدور المعارك حول سجن الصناعة في حي غويران {E}.",
    "ar-conflict": "تختلف المصادر: تقول قسد إن عدد الفارين يقدر بحدود 80 سجيناً {E}، بينما تقول وكالة أعماق "
                   "إن عددهم بلغ 800 عنصر {E2}.",
    "en-01": "At least 136 people have been killed since the fighting began, according to the Syrian Observatory "
             "for Human Rights {E}.",
    "en-02": "The Observatory's toll includes 84 Islamic State fighters {E}.",
    "en-03": "45 members of the Asayish, prison guards, counter-terrorism forces and the SDF were killed {E}.",
    "en-04": "Seven civilians were killed {E}.",
    "en-05": "The overall death toll was reported by the Syrian Observatory for Human Rights {E}.",
    "en-06": "The SDF media centre said it killed 13 IS fighters who had attacked the prison on Sunday morning {E}.",
    "en-07": "The SDF media centre said the number of IS dead rose to 35 {E}.",
    "en-08": "About 80 prisoners escaped, and most of them have been recaptured {E}.",
    "en-09": "Amaq claimed that 800 IS members escaped from the prison {E}.",
    "en-10": "IS claimed to have burned about 25 vehicles {E}.",
    "en-11": "IS said it seized 4 four-wheel-drive vehicles fitted with heavy machine guns {E}.",
    "en-12": "The IS video shows 4 SDF members appealing to their leader to release them {E}.",
    "en-13": "The latest clashes took place over the past 24 hours, according to an SDF military source {E}.",
    "en-14": "The SDF's commander-in-chief is Mazloum Abdi {E}.",
    "en-15": "The agency affiliated with IS is Amaq {E}.",
    "en-16": "The clashes around the prison resumed at dawn on Monday {E}.",
    "en-17": "Coalition helicopters dropped the leaflets over Hasakah on Sunday {E}.",
    "en-18": "The leaflets contained phone numbers and promises of a financial reward for reporting any terrorist "
             "activity {E}.",
    "en-19": "IS published the footage of its fighters storming the prison on Saturday {E}.",
    "en-20": "IS prisoners took over al-Sinaa prison on Thursday evening {E}.",
    "en-21": "IS cells outside the prison attacked with a car bomb targeting the prison's surroundings {E}.",
    "en-22": "Al-Sinaa prison is in the Ghweiran neighbourhood of Hasakah {E}.",
    "en-23": "Ghweiran is in the southern part of Hasakah city {E}.",
    "en-24": "The besieged IS fighters are holed up in the northern section of al-Sinaa prison {E}.",
    "en-25": "The SDF and the coalition combed the Ghweiran and Zuhur neighbourhoods and the cemetery area {E}.",
    "en-26": "According to its commander, the SDF repelled the attack with the help of the coalition {E}.",
    "en-27": "The internal security forces are called the Asayish {E}.",
    "en-28": "The SDF offered guarantees and incentives to the IS fighters over loudspeakers {E}.",
    "en-29": "Coalition aircraft struck several tall buildings inside the prison where IS fighters were holed up {E}.",
    "en-30": "According to Amaq, IS had been attacking the prison for three days {E}.",
    "en-31": "The prisoners held the guards and staff as hostages {E}.",
    "en-32": "The SDF targeted IS fighters inside the prison with artillery and heavy machine guns {E}.",
    "en-33": "The truce between the two sides lasted several hours before the fighting resumed {E}.",
    "en-34": "The captured SDF members were asking their leader to secure their release {E}.",
    "en-35": "The rioting prisoners reached one of the prison's weapons depots {E}.",
    "en-36": "The fighting centres on al-Sinaa prison in the Ghweiran neighbourhood {E}.",
    "en-conflict": "Reports differ: one puts the number of escaped prisoners at about 80 {E}, while Amaq says 800 "
                   "escaped {E2}.",
}

#: Invented answers to the unanswerable questions, each citing the top passage.
FABRICATED: dict[str, str] = {
    "ar-un-01": "مدير سجن الصناعة هو «أحمد الخليل» [1].",
    "ar-un-02": "يبلغ عدد سكان مدينة الحسكة نحو 200 ألف نسمة [1].",
    "ar-un-03": "وقع الهجوم على سجن غويران عام 2022 [1].",
    "ar-un-04": "شارك 300 جندي أمريكي في العمليات حول السجن [1].",
    "ar-un-05": "زعيم تنظيم الدولة هو «أبو إبراهيم القرشي» [1].",
    "ar-un-06": "كان السجن يضم نحو 3500 سجين قبل الهجوم [1].",
    "ar-un-07": "وعدت المنشورات بمكافأة مالية قدرها 5000 دولار [1].",
    "ar-un-08": "المتحدث باسم المركز الإعلامي لقسد هو «فرهاد شامي» [1].",
    "en-un-01": "The director of al-Sinaa prison is Ahmed al-Khalil [1].",
    "en-un-02": "Hasakah has a population of about 200,000 [1].",
    "en-un-03": "The attack on the prison began on January 20 [1].",
    "en-un-04": "About 300 US soldiers took part in the operation [1].",
    "en-un-05": "The Islamic State's leader is Abu Ibrahim al-Qurashi [1].",
    "en-un-06": "It was cold and snowing during the fighting [1].",
    "en-un-07": "The leaflets listed the numbers 0933 and 0944 [1].",
    "en-un-08": "Twelve coalition aircraft took part in the air strikes [1].",
}

#: The adversarial set: (question id, answer, one label per sentence). ``S``: supported, must be
#: kept (uncited ones by citation repair); ``H``: hallucinated or miscited, must be dropped.
ADVERSARIAL: list[tuple[str, str, str]] = [
    ("en-01", "At least 136 people have been killed since the fighting began {E}. Among them were 84 IS members "
              "and seven civilians {E}.", "SS"),
    ("en-01", "At least 163 people have been killed since the fighting began {E}. The toll comes from the Syrian "
              "Observatory for Human Rights {E}.", "HS"),
    ("en-04", "84 civilians were killed in the clashes {E}. The toll was reported by the Syrian Observatory for "
              "Human Rights {E}.", "HS"),
    ("en-14", "The SDF's commander-in-chief is Ahmed Khalil {E}. He said the fight against IS would not stop {E}.",
     "HS"),
    ("en-16", "The clashes around the prison resumed at dawn on Tuesday {E}.", "H"),
    ("en-22", "Al-Sinaa prison is in the Ghweiran neighbourhood of Hasakah {E}. The prison holds about 5,000 IS "
              "detainees {E}.", "SH"),
    ("en-09", "Amaq claimed that 800 prisoners escaped {W}.", "H"),
    ("en-08", "About 80 prisoners escaped from the prison, most of whom were caught again [9].", "S"),
    ("en-17", "Coalition helicopters dropped leaflets over Hasakah on Sunday. The leaflets promised a financial "
              "reward to anyone reporting terrorist activity {E}.", "SS"),
    ("en-05", "The toll was reported by the Syrian Observatory for Human Rights {E}. The Observatory is based in "
              "London {E}.", "SH"),
    ("en-26", "According to its commander, the SDF failed to repel the attack {E}.", "H"),
    ("en-28", "The SDF succeeded in storming the main prison buildings {E}.", "H"),
    ("en-33", "The truce between the two sides lasted several hours {E}. It was brokered by Russian mediators {E}.",
     "SH"),
    ("ar-14", "القائد العام لقوات سوريا الديمقراطية هو «أحمد خليل» {E}.", "H"),
    ("ar-14", "القائد العام لقسد هو أحمد خليل {E}.", "H"),
    ("ar-01", "بلغ عدد القتلى 163 شخصاً على الأقل {E}.", "H"),
    ("ar-04", "قُتل ٧ مدنيين بحسب المرصد السوري {E}.", "S"),
    ("ar-16", "تجددت الاشتباكات فجر يوم الثلاثاء {E}.", "H"),
    ("ar-09", "أكدت وكالة أعماق أن 800 عنصر فروا من السجن {E}. وقالت إن الفارين انضموا إلى القتال {E}.", "SS"),
    ("ar-20", "سيطر السجناء على سجن الصناعة مساء الخميس {E}. وقد قُتل خلال السيطرة 50 حارساً {E}.", "SH"),
    ("ar-24", "يتحصن المسلحون المحاصرون في القسم الشمالي من سجن الصناعة.", "S"),
    ("ar-23", "يبلغ عدد سكان حي غويران نحو 100 ألف نسمة.", "H"),
    ("en-conflict", "The figures differ: about 80 prisoners escaped according to one report {E}, while Amaq says "
                    "800 escaped {E2}.", "S"),
    ("en-conflict", "The SDF says 800 prisoners escaped {E}.", "H"),
    ("en-11", "IS said it seized 4 four-wheel-drive vehicles {E}. It also shot down a coalition helicopter {E}.", "SH"),
    ("en-30", "IS had been attacking the prison for three days, according to Amaq {E}. The attack began in March "
              "{E}.", "SH"),
    ("en-06", "The SDF killed 13 IS attackers on Sunday morning {E}. The operation was led by US special forces {E}.",
     "SH"),
    ("en-21", "IS cells attacked the prison with a car bomb {E}. The bomb was driven by a Turkish national {E}.", "SH"),
    ("ar-26", "قال قائد قسد إن قواته فشلت في صد الهجوم {E}.", "H"),
    ("en-18", "The leaflets contained phone numbers and promised a reward {E}. The reward was 10,000 dollars {E}.",
     "SH"),
    ("en-23", "Ghweiran is in the southern part of Hasakah {E}. It is the largest neighbourhood of the city {E}.",
     "SH"),
    ("en-12", "The IS video shows 4 SDF members appealing to their leader for their release {E}. The members were "
              "later executed by IS {E}.", "SH"),
    ("en-29", "Coalition aircraft struck tall buildings inside the prison {E}. The strikes killed dozens of civilians "
              "{E}.", "SH"),
    ("en-15", "The agency affiliated with IS is Amaq {E}. Amaq is based in Raqqa {E}.", "SH"),
    ("en-31", "The prisoners held the guards and staff as hostages {E}.", "S"),
    ("ar-31", "احتجز السجناء الحراس والموظفين رهائن {E}. وطالبوا بفدية مالية مقابل إطلاق سراحهم {E}.", "SH"),
    ("en-28", "The IS fighters agreed to surrender after the SDF's offers over loudspeakers {E}.", "H"),
    ("en-35", "The rioting prisoners reached one of the prison's weapons depots {E}. They seized 200 rifles {E}.",
     "SH"),
    ("ar-17", "ألقت مروحيات التحالف منشورات في مدينة الحسكة يوم الأحد {E}. وحثت المنشورات الأهالي على التعاون "
              "{E}.", "SS"),
    ("en-13", "The latest clashes took place over the past 24 hours [7]. An SDF military source said IS fighters "
              "still had ammunition {E}.", "SS"),
    ("en-20", "IS prisoners took over al-Sinaa prison on Thursday evening {E}. Dozens of guards were wounded in the "
              "takeover {E}.", "SH"),
    ("en-31", "The prisoners held the guards and staff as hostages {E}. They demanded a ransom for their release {E}.",
     "SH"),
    ("en-10", "IS claimed to have burned about 25 vehicles {E}. It also destroyed 3 coalition tanks {E}.", "SH"),
    ("ar-17", "ألقت مروحيات التحالف المنشورات فوق مدينة الحسكة يوم الأحد {E}. ووعدت المنشورات بمكافأة قدرها 5000 "
              "دولار {E}.", "SH"),
    ("en-07", "The SDF media centre said the number of IS dead rose to 53 {E}.", "H"),
    ("ar-12", "ظهر في التسجيل المصور 4 من عناصر قسد يناشدون زعيمهم إطلاق سراحهم {E}. وقد أعدمهم التنظيم لاحقاً {E}.",
     "SH"),
    ("en-25", "The SDF and the coalition combed the Ghweiran and Zuhur neighbourhoods {E}. They arrested 40 suspects "
              "{E}.", "SH"),
    ("en-02", "The Observatory's toll includes 84 Islamic State fighters {W}.", "H"),
    ("en-24", "The besieged IS fighters are holed up in the northern section of al-Sinaa prison {E}. They surrendered "
              "on Monday {E}.", "SH"),
    ("en-19", "IS published the footage of its fighters storming the prison on Saturday {E}.", "S"),
]
