"""Word lists used by the feature extraction: stopwords, number words, nationalities."""

from __future__ import annotations

STOPWORDS: frozenset[str] = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself said says say saying told
    tell according new one ones may might must shall it's he's she's they're we're there's i'm
    mr mrs ms dr st""".split()
)

CONNECTORS: frozenset[str] = frozenset(
    {"of", "the", "and", "for", "de", "da", "van", "von", "du", "le", "la", "&"}
)

DIRECTIONS: frozenset[str] = frozenset(
    """north south east west north-west north-east south-west south-east northern southern eastern
    western central""".split()
)

NUMBER_WORDS: dict[str, int] = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "dozen": 12, "hundred": 100, "thousand": 1000, "million": 1000000, "billion": 1000000000,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "twice": 2, "double": 2, "treble": 3, "triple": 3,
}  # fmt: skip

# Words whose novelty often marks an invented event, time or scale (matched on stems).
EVENT_WORDS: frozenset[str] = frozenset(
    """die died dead death kill killed found find arrest arrested charge charged jail jailed
    sentence sentenced convict convicted guilty cleared acquitted launch launched won win lose
    lost injure injured hurt sack sacked resign resigned appoint appointed sign signed ban banned
    suspend suspended close closed open opened sold sell buy bought rescue rescued missing crash
    crashed shot shoot stab stabbed fire fired approve approved reject rejected postpone
    postponed cancel cancelled withdraw withdrawn retire retired leave left join joined murder
    murdered attack attacked rise risen rose fall fell fallen increase increased cut drop
    dropped""".split()
)
TIME_WORDS: frozenset[str] = frozenset(
    """year month week day monday tuesday wednesday thursday friday saturday sunday january
    february march april june july august september october november december today yesterday
    weekend decade century season night morning""".split()
)
SCALE_WORDS: frozenset[str] = frozenset(
    """biggest largest first record hundreds thousands dozens millions billions several worst
    best highest lowest most""".split()
)

# Nationality adjective -> other words that support it (country names, people, short forms).
NATIONALITIES: dict[str, tuple[str, ...]] = {
    "briton": ("britain", "british", "uk"),
    "british": (
        "britain",
        "uk",
        "brit",
        "brits",
        "english",
        "scottish",
        "welsh",
        "england",
        "scotland",
        "wales",
    ),
    "english": ("england", "english"),
    "scottish": ("scotland", "scot", "scots"),
    "welsh": ("wales",),
    "irish": ("ireland", "ni"),
    "american": ("america", "us", "usa", "americans"),
    "canadian": ("canada",),
    "mexican": ("mexico",),
    "brazilian": ("brazil",),
    "argentine": ("argentina",),
    "argentinian": ("argentina",),
    "chilean": ("chile",),
    "colombian": ("colombia",),
    "venezuelan": ("venezuela",),
    "peruvian": ("peru",),
    "cuban": ("cuba",),
    "french": ("france",),
    "german": ("germany",),
    "italian": ("italy",),
    "spanish": ("spain",),
    "portuguese": ("portugal",),
    "dutch": ("netherlands", "holland"),
    "belgian": ("belgium",),
    "swiss": ("switzerland",),
    "austrian": ("austria",),
    "swedish": ("sweden",),
    "norwegian": ("norway",),
    "danish": ("denmark",),
    "finnish": ("finland",),
    "icelandic": ("iceland",),
    "polish": ("poland",),
    "czech": ("czechia",),
    "hungarian": ("hungary",),
    "romanian": ("romania",),
    "bulgarian": ("bulgaria",),
    "greek": ("greece",),
    "turkish": ("turkey",),
    "cypriot": ("cyprus",),
    "russian": ("russia",),
    "ukrainian": ("ukraine",),
    "belarusian": ("belarus",),
    "serbian": ("serbia",),
    "croatian": ("croatia",),
    "bosnian": ("bosnia",),
    "albanian": ("albania",),
    "georgian": ("georgia",),
    "armenian": ("armenia",),
    "chinese": ("china",),
    "japanese": ("japan",),
    "korean": ("korea",),
    "taiwanese": ("taiwan",),
    "vietnamese": ("vietnam",),
    "thai": ("thailand",),
    "indonesian": ("indonesia",),
    "malaysian": ("malaysia",),
    "filipino": ("philippines",),
    "indian": ("india",),
    "pakistani": ("pakistan",),
    "afghan": ("afghanistan",),
    "bangladeshi": ("bangladesh",),
    "nepalese": ("nepal",),
    "iranian": ("iran",),
    "iraqi": ("iraq",),
    "syrian": ("syria",),
    "lebanese": ("lebanon",),
    "israeli": ("israel",),
    "palestinian": ("palestine", "gaza", "palestinians"),
    "jordanian": ("jordan",),
    "saudi": ("saudi", "arabia"),
    "yemeni": ("yemen",),
    "qatari": ("qatar",),
    "egyptian": ("egypt",),
    "libyan": ("libya",),
    "tunisian": ("tunisia",),
    "algerian": ("algeria",),
    "moroccan": ("morocco",),
    "nigerian": ("nigeria",),
    "ghanaian": ("ghana",),
    "kenyan": ("kenya",),
    "ethiopian": ("ethiopia",),
    "somali": ("somalia",),
    "sudanese": ("sudan",),
    "ugandan": ("uganda",),
    "rwandan": ("rwanda",),
    "zimbabwean": ("zimbabwe",),
    "zambian": ("zambia",),
    "african": ("africa",),
    "australian": ("australia",),
    "zealander": ("zealand",),
    "european": ("europe", "eu"),
    "asian": ("asia",),
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "uk": ("britain", "british", "united kingdom", "england", "scotland", "wales"),
    "britain": ("uk", "british"),
    "us": ("america", "american", "united states", "usa"),
    "america": ("us", "american", "usa"),
    "eu": ("european", "europe"),
    "nhs": ("health service", "hospital"),
}


def equivalents(word: str) -> tuple[str, ...]:
    """Other words whose presence in a document supports ``word`` (a lower-case token)."""
    forms = NATIONALITIES.get(word, ()) + _ALIASES.get(word, ())
    country_of = tuple(adj for adj, places in NATIONALITIES.items() if word in places)
    return forms + country_of
