"""make_tokcorpus — the tokenizer test corpus: real texts sampled from the datasets plus synthetic lines that
probe every corner of BERT tokenization. Standard library only; deterministic (fixed seeds).

Usage (from the repository root):
    /usr/bin/python3 tools/make_tokcorpus.py -o build/tok/corpus.jsonl [--data ../shared/data] [--no-data]

Output: one JSON object per line, {"text": str, "pair": str (only for text pairs), "source": str}, keys in
that order, UTF-8, with DEL, the C1 controls, U+2028 and U+2029 written as \\u escapes (json.dumps already
escapes the C0 controls) so that no reader splits a line inside a string. Read it by splitting on "\\n".
  (a) "<dataset>/<split>" lines: DATA_QUOTA texts sampled from each dataset's train and dev splits
      (tools/datasets.py), about PAIR_SHARE of them as pairs of two consecutive texts of the split. Skipped,
      with a note on stderr, when the data folder does not exist.
  (b) "synthetic/<category>" lines, made here from fixed seeds, no data files needed: one category per
      entry of CATEGORIES (accents, scripts, CJK, emoji, controls, every White_Space character, long words,
      literal special tokens, ...); see each generator's docstring.
Every synthetic character is assigned in Unicode 14 (Python's unicodedata) and has the same general
category, lower-case mapping and NFD in Unicode 17 (Node 20's tables; only U+0295 and U+1171E changed
category, and they are never used), except the deliberate unassigned code points UNASSIGNED and the
noncharacters NONCHARACTERS, which are unassigned in both. No lone surrogates.
"""

import argparse
import json
import os
import random
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

SEED = 20240917
DATA_QUOTA = {"train": 380, "dev": 150}  # texts per dataset and split (fewer when the split is smaller)
PAIR_SHARE = 0.2

# Unassigned (general category Cn) in Unicode 14 and 17 alike (Node: /\p{Cn}/u), inside and outside the
# BERT CJK ranges, in the BMP and in planes 2-14 (planes 4-13 hold nothing at all).
UNASSIGNED = (0x0378, 0x038B, 0x0530, 0xFFF0, 0xFA6E, 0xFADA, 0x2A6E0, 0x2B81E, 0x2CEAE, 0x2FA1E, 0x2FFFD, 0x3FFFD,
              0x40000, 0x5ABCD, 0x7FFFD, 0xA0000, 0xDFFFD, 0xE0080)
# Noncharacters (also Cn): some of U+FDD0..U+FDEF, and the last code points of planes 0, 1, 7 and 16.
NONCHARACTERS = (0xFDD0, 0xFDDF, 0xFDEF, 0xFFFE, 0xFFFF, 0x1FFFE, 0x1FFFF, 0x7FFFE, 0x10FFFE, 0x10FFFF)
# Assigned in Unicode 14 with another general category in Unicode 17: never generated.
CHANGED_SINCE_14 = frozenset((0x0295, 0x1171E))
ALLOWED_UNASSIGNED = frozenset(UNASSIGNED) | frozenset(NONCHARACTERS)

# Unicode White_Space, in code point order.
WHITE_SPACE = (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
               0x202F, 0x205F, 0x3000)
# Space-like characters that are not White_Space (letters, symbols or format characters).
NOT_WHITE_SPACE = (0x180E, 0x200B, 0x2800, 0x3164, 0xFFA0, 0x115F, 0x1160, 0xFEFF)
FORMAT_CHARS = (0x00AD, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D,
                0x202E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF, 0xFFF9,
                0xFFFA, 0xFFFB, 0x110BD, 0x1D173, 0xE0001, 0xE0020, 0xE007F)
CONTROLS = tuple(range(0x00, 0x20)) + (0x7F,) + tuple(range(0x80, 0xA0))
PRIVATE_USE = (0xE000, 0xE401, 0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD)
ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

FILLER = """the a of and to in is it you that was for on are with as his they be at one have this from or had by
word but what some we can out other were all there when up use your how said an each she which do their time
if will way about many then them write would like so these her long make thing see him two has look more day
could go come did number sound no most people my over know water than call first who may down side been now
find Hello World Paris London Monday OK USA NASA iPhone""".split()


class CorpusError(ValueError):
    """A generated text that breaks the corpus rules (see the module docstring)."""


def check_text(text, where):
    """Raises CorpusError for a lone surrogate, a code point unassigned in Unicode 14 (other than the
    deliberate ones), or one whose category changed between Unicode 14 and 17."""
    for ch in text:
        cp = ord(ch)
        if 0xD800 <= cp <= 0xDFFF:
            raise CorpusError("%s: lone surrogate U+%04X" % (where, cp))
        if cp in CHANGED_SINCE_14:
            raise CorpusError("%s: U+%04X changed category after Unicode 14" % (where, cp))
        if unicodedata.category(ch) == "Cn" and cp not in ALLOWED_UNASSIGNED:
            raise CorpusError("%s: U+%04X is unassigned in Unicode %s" % (where, cp, unicodedata.unidata_version))


def nfd(s):
    return unicodedata.normalize("NFD", s)


def chars(codes):
    return "".join(map(chr, codes))


def assigned(lo, hi, categories=None):
    """The code points in [lo, hi] assigned in Unicode 14 (optionally of the given categories)."""
    out = []
    for cp in range(lo, hi + 1):
        cat = unicodedata.category(chr(cp))
        if cat != "Cn" and cp not in CHANGED_SINCE_14 and (categories is None or cat in categories):
            out.append(cp)
    return out


# ------------------------------------------------------------------------------------------------
# Synthetic categories: each generator takes a random.Random and returns texts, or (text, pair) tuples.
# ------------------------------------------------------------------------------------------------

CATEGORIES = {}  # name -> generator, in definition order


def category(name):
    def register(fn):
        CATEGORIES[name] = fn
        return fn
    return register


def sentence(rng, pool, lo=2, hi=6, filler_share=0.4, seps=(" ",)):
    """Pool items and filler words joined by separators, sometimes capitalised or ending in punctuation."""
    words = []
    for _ in range(rng.randint(lo, hi)):
        words.append(rng.choice(FILLER) if rng.random() < filler_share else rng.choice(pool))
    out = words[0]
    for w in words[1:]:
        out += rng.choice(seps) + w
    r = rng.random()
    if r < 0.2:
        out = out[:1].upper() + out[1:]
    elif r < 0.3:
        out = out.upper()
    if rng.random() < 0.3:
        out += rng.choice(".!?…,;:")
    return out


def run_of(rng, codes, lo, hi):
    """lo..hi characters drawn from codes (a sequence of code points)."""
    return "".join(chr(rng.choice(codes)) for _ in range(rng.randint(lo, hi)))


def fill(rng, n, pool, make=None):
    """The pool verbatim, then made lines (default: sentences of pool items) up to n lines."""
    out = list(pool)
    make = make or (lambda: sentence(rng, pool))
    while len(out) < n:
        out.append(make())
    return out


ACCENTED = ["café", "naïve", "résumé", "façade", "jalapeño", "São Paulo", "Ångström", "Zürich", "crème brûlée",
            "Dvořák", "Łódź", "Kraków", "Škoda", "Þingvellir", "Ærøskøbing", "Øresund", "coöperate", "piñata",
            "déjà vu", "Müller", "Gödel", "Erdős", "Besançon", "Málaga", "Ibáñez", "Citroën", "Noël", "ÉCOLE",
            "ÀÉÎÕÜ", "àéîõü", "Ç", "ñ", "Ñandú", "Smørrebrød", "Reykjavík", "Curaçao", "Québec", "señor", "Ōsaka",
            "Tōkyō", "Māori", "Ḍhākā", "ẞ", "Ǆemal", "Ǉubljana"]


@category("accents_nfc")
def gen_accents_nfc(rng):
    """Precomposed (NFC) accented Latin words, mixed with plain words, in several cases."""
    pool = [unicodedata.normalize("NFC", w) for w in ACCENTED]
    return fill(rng, 60, pool)


@category("accents_nfd")
def gen_accents_nfd(rng):
    """The same words decomposed (NFD: base letter + combining marks), and lines mixing NFC and NFD."""
    pool = [nfd(w) for w in ACCENTED]
    out = fill(rng, 45, pool)
    while len(out) < 60:
        out.append(" ".join(nfd(w) if rng.random() < 0.5 else w for w in rng.sample(ACCENTED, 4)))
    return out


@category("latin_extended")
def gen_latin_extended(rng):
    """Latin Extended-A/B, IPA, Latin Extended Additional/D, titlecase digraphs, long s, dotless j."""
    pool = ["ſtraße", "ƒ(x)", "ǅ ǈ ǋ ǲ", "Ǆ ǆ Ǉ ǉ", "Ŋŋ", "ɐ ɑ ɒ ə ɛ", "ĳssel Ĳssel", "ŉ", "Ǳ ǳ", "ȷ", "Ꜳ ꜳ",
            "ꝏ", "ʃ ʒ θ ð ŋ", "Ƿ ƿ", "Ȝ ȝ", "ǂǃǀ", "ħ Ħ", "ŀ Ŀ", "đ Đ", "ǥ Ǥ", "Ɓ ɓ", "ƛ", "Ɑ", "Ʌ ʌ",
            "ǯ Ǯ", "ǰ", "ȸ ȹ", "Ⱥ ⱥ", "ẚ", "ẛ", "Ỻ ỻ", "ꞵ Ꞵ"]
    extra = assigned(0x0100, 0x024F) + assigned(0x1E00, 0x1EFF) + assigned(0x2C60, 0x2C7F)
    return fill(rng, 40, pool, lambda: " ".join(run_of(rng, extra, 2, 7) for _ in range(rng.randint(1, 5))))


@category("vietnamese")
def gen_vietnamese(rng):
    """Vietnamese with stacked diacritics, NFC and NFD, lower and upper case."""
    base = ["Tiếng Việt", "Hà Nội", "Thành phố Hồ Chí Minh", "Nguyễn Văn Anh", "phở bò", "cảm ơn", "Xin chào",
            "Đà Nẵng", "Huế", "người", "được", "những", "TIẾNG VIỆT", "ĐƯỜNG", "ặ ẳ ẵ ỡ ự ỵ"]
    pool = base + [nfd(w) for w in base[:8]]
    return fill(rng, 40, pool)


@category("greek")
def gen_greek(rng):
    """Greek, polytonic and monotonic; capital sigma at word ends (final σ/ς), ς and Σ alone and mid-word,
    sigma before punctuation, marks and digits (where the Final_Sigma context rule decides)."""
    pool = ["ΟΔΟΣ", "ΣΟΦΟΣ", "ΟΔΥΣΣΕΥΣ", "Ὀδυσσεύς", "καλημέρα", "Αθήνα", "ΑΘΗΝΑ", "σοφός", "ς", "Σ", "ΣΑΣ",
            "ΣΣ", "ΑΣ.", "ΑΣ.Β", "ΑΣ'Β", "ΑΣ" + "\u0301", "ΑΣ\u0301Β", "ΑΣ1", "1Σ", "ΑΣ-ΒΣ", "ΆΈΉΊΌΎΏ",
            "ΪΫ ϊϋ", "ΐ ΰ", "ᾳ ᾼ ῳ ῼ", "ΟΔΟΣ ΚΑΙ ΟΔΟΣ", "ΟΔΟΣ, ΑΓΟΡΑ", "Η ΟΔΟΣ.", "ΌΣΟΣ", "ΣΊΣΥΦΟΣ",
            "ΜΈΣΑ", "ΑΣ\u200dΒ", "ΑΣ\u00adΒ", "ΟΔΟΣ\u0345", "ϐ ϑ ϕ ϖ ϰ ϱ ϲ ϵ", "Ϲ ϲ", "ΑΣ\U0001D173"]
    words = ["ΟΔΟΣ", "ΛΟΓΟΣ", "ΚΟΣΜΟΣ", "ΝΟΜΟΣ", "ΘΕΟΣ", "ΣΟΦΙΑ", "ΑΣΤΗΡ", "λόγος", "κόσμος", "Σωκράτης"]
    return fill(rng, 60, pool, lambda: sentence(rng, words, 2, 6, 0.2, (" ", ", ", ". ", "; ")))


@category("cyrillic")
def gen_cyrillic(rng):
    """Russian, Ukrainian, Serbian, Bulgarian; й/ё (which NFD splits), Ї, Ґ, Ђ, Љ, upper and lower case."""
    pool = ["Привет, мир!", "ЁЖ", "ёлка", "Україна", "Ї ї Ґ ґ Є є", "Й й", "Српски језик", "Ђ Љ Њ Ћ Џ",
            "ПРИВЕТ", "Здравствуйте", "България", "щастие", "Ѣ ѣ Ѳ ѳ", "Қазақстан", "Ӂ ӂ", nfd("йогурт ёж")]
    return fill(rng, 40, pool)


@category("turkish")
def gen_turkish(rng):
    """Turkish dotted/dotless i: İ (lower-cases to i + U+0307), ı, I, i, and an explicit i + U+0307."""
    pool = ["İstanbul", "ISTANBUL", "ıslak", "Iğdır", "DİYARBAKIR", "şişli", "İ", "ı", "i\u0307", "İi Iı",
            "Türkçe", "ÇĞİÖŞÜ çğıöşü", "KIZILIRMAK", "İZMİR", "ılık", nfd("İstanbul")]
    return fill(rng, 40, pool)


@category("german")
def gen_german(rng):
    """German ß and capital ẞ (U+1E9E), umlauts, SS spellings."""
    pool = ["Straße", "STRASSE", "ẞ", "Fußball", "GROẞ", "Maß", "Mass", "ß", "Ä Ö Ü ä ö ü", "Größe",
            "GRÖẞE", "Weißbier", "Schloß", nfd("Äpfel Öl Übung")]
    return fill(rng, 40, pool)


@category("ligatures")
def gen_ligatures(rng):
    """Typographic ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ, Armenian ﬓ), Ĳ, Œ, Æ: compatibility characters NFD keeps."""
    pool = ["ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ", "oﬃce", "eﬀect", "ﬁnance", "ﬂow", "ﬓ", "Ĳ ĳ", "Œuvre œuf",
            "Æsir æther", "ǆ", "ꜳ", "ﬀ\u0301"]
    return fill(rng, 40, pool)


@category("fullwidth")
def gen_fullwidth(rng):
    """Fullwidth Latin letters, digits and punctuation (U+FF01..FF5E), the ideographic space, halfwidth forms."""
    pool = ["Ｈｅｌｌｏ\u3000Ｗｏｒｌｄ", "ＡＢＣ１２３", "０１２３４５６７８９", "！＂＃＄％＆＇（）＊＋，－．／",
            "：；＜＝＞？＠［＼］＾＿｀｛｜｝～", "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "ｶﾀｶﾅ ﾊﾝｶｸ", "￠￡￥￦",
            "｟｠｡｢｣､"]
    letters = assigned(0xFF01, 0xFF5E)
    return fill(rng, 40, pool, lambda: run_of(rng, letters, 3, 20))


@category("cjk")
def gen_cjk(rng):
    """BMP CJK ideographs (U+4E00.., Extension A U+3400..), alone, in runs and glued to Latin and digits."""
    pool = ["中文分词", "東京", "北京市", "我爱你", "iPhone手机", "第3章", "漢字abc漢字", "你好，世界！", "日本語のテキスト",
            "㐀㐁㐂", "一二三四五", "鿿", "䶿", "中a文b", "价格100元"]
    ideo = assigned(0x4E00, 0x9FFF) + assigned(0x3400, 0x4DBF)
    return fill(rng, 50, pool, lambda: "".join(chr(rng.choice(ideo)) if rng.random() < 0.8 else rng.choice(FILLER) + " "
                                               for _ in range(rng.randint(2, 15))))


@category("cjk_compat")
def gen_cjk_compat(rng):
    """CJK Compatibility Ideographs U+F900..U+FAFF (most decompose under NFD to unified ideographs)."""
    compat = assigned(0xF900, 0xFAFF)
    pool = ["豈更車", "a豈b", "﨎﨏", "福", "﨑"]
    return fill(rng, 40, pool, lambda: run_of(rng, compat, 1, 6) + rng.choice(["", "x", " ok", "1"]))


@category("cjk_astral")
def gen_cjk_astral(rng):
    """Ideographs beyond the BMP: Extension B (U+20000..), C, D, E (in and outside BERT's ranges), F, G and the
    compatibility supplement U+2F800.., alone and glued to Latin letters or BMP ideographs."""
    pool = ["𠀀", "a𠀀b", "𠮷野家", "東京𠮷野家", "𩸽", "x𩸽y", "𪜀", "𫝀", "𫠠", "𬺰", "𰀀", "\U0002F800", "a\U0002F800b", "你𠀀好",
            "𠀀𠀁𠀂", "abc𠀀", "𠀀abc"]
    astral = (assigned(0x20000, 0x2A6DF) + assigned(0x2A700, 0x2B73F) + assigned(0x2B740, 0x2B81F)
              + assigned(0x2B820, 0x2CEAF) + assigned(0x2CEB0, 0x2EBEF) + assigned(0x30000, 0x3134F)
              + assigned(0x2F800, 0x2FA1F))
    bmp = assigned(0x4E00, 0x9FFF)

    def make():
        out = ""
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            out += chr(rng.choice(astral)) if r < 0.6 else chr(rng.choice(bmp)) if r < 0.8 else rng.choice("abxyz1 ")
        return out
    return fill(rng, 50, pool, make)


@category("kana")
def gen_kana(rng):
    """Hiragana, katakana (with the prolonged sound mark), halfwidth katakana, dakuten/handakuten that NFD
    splits off as combining marks (が -> か + U+3099), and halfwidth voicing marks (letters, not marks)."""
    pool = ["ひらがな", "カタカナ", "コーヒー", "ｶﾀｶﾅ", "ｶﾞｷﾞ", "がぎぐげご", "パピプペポ", nfd("がぎぐ"), "ヴ",
            "ゐゑ", "ゟ", "ヿ", "トヨタ", "ありがとう", "ｱﾘｶﾞﾄｳ"]
    kana = assigned(0x3041, 0x30FF) + assigned(0xFF66, 0xFF9F)
    return fill(rng, 40, pool, lambda: run_of(rng, kana, 2, 12))


@category("cjk_punct")
def gen_cjk_punct(rng):
    """CJK punctuation 、。「」『』【】〈〉《》・〜 and the ideographic space, between ideographs and kana."""
    pool = ["日本語、中文。", "「引用」", "『書名』", "【注意】", "〈山〉《水》", "東京・大阪", "波〜", "あ\u3000い",
            "、。", "〃々〆〇", "〘〙〚〛", "〝〞〟", "〰"]
    punct = assigned(0x3000, 0x303F)
    other = "中文日本語ひらがなカナ"
    return fill(rng, 40, pool, lambda: "".join(chr(rng.choice(punct)) if rng.random() < 0.4 else rng.choice(other)
                                               for _ in range(rng.randint(3, 12))))


@category("hangul")
def gen_hangul(rng):
    """Hangul syllables (NFD splits them into conjoining jamo), conjoining jamo U+1100.., compatibility
    jamo U+3131.., halfwidth jamo."""
    pool = ["한국어", "안녕하세요", "대한민국", "ᄀᄁᄂ", "ᅡᅢ", "ᆨᆩ", "ㄱㄴㄷ", "ㅏㅑ", "ﾡﾢ", nfd("한국어"),
            "서울특별시", "값", "똠방각하"]
    syll = list(range(0xAC00, 0xD7A4))
    jamo = assigned(0x1100, 0x11FF) + assigned(0x3131, 0x318E)

    def make():
        return " ".join("".join(chr(rng.choice(syll if rng.random() < 0.8 else jamo)) for _ in range(rng.randint(1, 5)))
                        for _ in range(rng.randint(1, 4)))
    return fill(rng, 40, pool, make)


@category("arabic")
def gen_arabic(rng):
    """Arabic with and without harakat (combining vowel marks), shadda, tatweel, Arabic-Indic digits and
    punctuation, the Arabic letter mark (format), presentation forms."""
    pool = ["مرحبا بالعالم", "مَرْحَبًا", "السَّلَامُ عَلَيْكُمْ", "ـــ", "٠١٢٣٤٥٦٧٨٩", "،؛؟", "a\u061cb", "ﷺ", "ﻻ",
            "العربية", "كتب‌خانه", "۰۱۲۳", "مُحَمَّد"]
    letters = assigned(0x0621, 0x064A)
    harakat = assigned(0x064B, 0x0652)

    def make():
        words = []
        for _ in range(rng.randint(1, 5)):
            w = ""
            for _ in range(rng.randint(2, 6)):
                w += chr(rng.choice(letters))
                if rng.random() < 0.5:
                    w += chr(rng.choice(harakat))
            words.append(w)
        return " ".join(words)
    return fill(rng, 40, pool, make)


@category("hebrew")
def gen_hebrew(rng):
    """Hebrew with niqqud (points) and cantillation, maqaf, geresh, gershayim, presentation forms."""
    pool = ["שָׁלוֹם", "עִבְרִית", "שלום עולם", "בֵּית־סֵפֶר", "צה״ל", "ג׳ירפה", "שּׁ", "ײ", "בְּרֵאשִׁ֖ית", "ﬠ"]
    letters = assigned(0x05D0, 0x05EA)
    points = assigned(0x05B0, 0x05BD)

    def make():
        return " ".join("".join(chr(rng.choice(letters)) + (chr(rng.choice(points)) if rng.random() < 0.6 else "")
                                for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(1, 5)))
    return fill(rng, 40, pool, make)


def syllables(rng, consonants, signs, max_words):
    """1..max_words words of 1..5 consonants, each followed by a vowel sign 60% of the time."""
    return " ".join("".join(chr(rng.choice(consonants)) + (chr(rng.choice(signs)) if rng.random() < 0.6 else "")
                            for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, max_words)))


@category("devanagari")
def gen_devanagari(rng):
    """Devanagari: matras (vowel signs, some nonspacing), virama conjuncts, nukta letters (क़ decomposes to
    क + nukta), anusvara, visarga, danda, digits."""
    pool = ["नमस्ते", "हिन्दी", "क़", "क्ष", "ड़", "कि की कु कू के कै को कौ", "संस्कृत", "दुःख", "।", "॥", "०१२३",
            "भारत गणराज्य", "ज़िन्दगी", nfd("क़ख़ग़")]
    return fill(rng, 40, pool, lambda: syllables(rng, assigned(0x0915, 0x0939), assigned(0x093E, 0x094D), 5))


@category("bengali")
def gen_bengali(rng):
    """Bengali: conjuncts with hasanta, য় (decomposes to য + nukta), ৎ, vowel signs, digits."""
    pool = ["বাংলা", "আমি তোমাকে ভালোবাসি", "ক্ষ", "য়", "ৎ", "০১২৩", "কো", "কৌ", "বাংলাদেশ"]
    return fill(rng, 40, pool, lambda: syllables(rng, assigned(0x0995, 0x09B9), assigned(0x09BE, 0x09CD), 4))


@category("thai")
def gen_thai(rng):
    """Thai, written without spaces between words: tone marks and vowel signs (nonspacing), ๆ, ฿, digits."""
    pool = ["สวัสดีครับ", "ภาษาไทย", "กรุงเทพมหานคร", "ๆ", "฿100", "๑๒๓", "น้ำ", "ผู้ใหญ่", "เด็กๆ"]
    thai = assigned(0x0E01, 0x0E5B)
    return fill(rng, 40, pool, lambda: run_of(rng, thai, 3, 20))


@category("tamil")
def gen_tamil(rng):
    """Tamil: pulli (virama), two-part vowel signs (கொ decomposes to two spacing marks), ஸ்ரீ, digits."""
    pool = ["தமிழ்", "வணக்கம்", "ஸ்ரீ", "கொ", "கோ", "கௌ", "௧௨௩", "௰", "இந்தியா", nfd("கொகோ")]
    cons = assigned(0x0B95, 0x0BB9)
    signs = assigned(0x0BBE, 0x0BCD)

    def make():
        return " ".join("".join(chr(rng.choice(cons)) + (chr(rng.choice(signs)) if rng.random() < 0.6 else "")
                                for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 4)))
    return fill(rng, 40, pool, make)


EMOJI = ["😀", "🎉", "❤", "❤\ufe0f", "❤\ufe0e", "☺\ufe0e", "☺\ufe0f", "👍🏽", "👋🏿", "👨\u200d👩\u200d👧\u200d👦",
         "👩🏽\u200d💻", "🏳\ufe0f\u200d🌈", "🇺🇸", "🇯🇵", "🇪🇺", "🇦", "1\ufe0f\u20e3", "#\ufe0f\u20e3", "*\ufe0f\u20e3",
         "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🙏", "💯", "🤖", "🥰", "🧑\u200d🚀", "✌🏻",
         "👁\u200d🗨", "🫠", "©\ufe0f", "™", "↔\ufe0f"]


@category("emoji")
def gen_emoji(rng):
    """Emoji: single, with skin-tone modifiers, ZWJ sequences (families, professions, rainbow flag),
    regional-indicator flags, keycaps (digit + U+FE0F + U+20E3), tag sequences, text/emoji variation
    selectors U+FE0E/U+FE0F; alone, in runs and glued to words and punctuation."""
    return fill(rng, 60, EMOJI, lambda: sentence(rng, EMOJI, 1, 6, 0.5, (" ", "", "!", ", ")))


@category("zalgo")
def gen_zalgo(rng):
    """Letters carrying dozens of stacked combining marks (U+0300.., U+0483.., U+1DC0.., U+20D0..), up to one
    letter with 500 marks."""
    marks = assigned(0x0300, 0x036F, ("Mn",)) + assigned(0x0483, 0x0489, ("Mn", "Me")) \
        + assigned(0x1DC0, 0x1DFF, ("Mn",)) + assigned(0x20D0, 0x20F0, ("Mn", "Me"))

    def zalgo(word, lo, hi):
        return "".join(ch + "".join(chr(rng.choice(marks)) for _ in range(rng.randint(lo, hi))) for ch in word)
    out = ["Z" + "".join(chr(rng.choice(marks)) for _ in range(500)), "a" + "\u0301" * 99, "a" + "\u0301" * 100,
           "e" + "\u0308" * 150]
    while len(out) < 40:
        words = [zalgo(rng.choice(FILLER), *rng.choice(((1, 5), (10, 30), (20, 80))))
                 for _ in range(rng.randint(1, 4))]
        out.append(" ".join(words))
    return out


@category("controls")
def gen_controls(rng):
    """C0 controls (NUL, VT, FF, the separators U+001C..1F, ...), DEL and the C1 controls (incl. NEL U+0085)
    between letters, alone and in runs: all are removed, except TAB, LF and CR which become spaces."""
    out = ["foo%sbar" % chr(c) for c in CONTROLS]
    while len(out) < 40 + len(CONTROLS):
        out.append(sentence(rng, FILLER, 2, 5, 0.0, tuple(chr(c) for c in CONTROLS) + (" ",)))
    return out


@category("format_chars")
def gen_format_chars(rng):
    """Format characters (Cf): ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, LRM/RLM, bidi embeddings and
    isolates, the Arabic letter mark, invisible operators, interlinear annotation marks, tags."""
    out = ["co%soperate" % chr(c) for c in FORMAT_CHARS]
    out += ["\ufeffHello", "Hello\ufeff", "\u200b", "\u2067שלום\u2069 world", "\u202eabc\u202c", "a\u00ad", "\u00ad"]
    while len(out) < 40 + len(FORMAT_CHARS):
        out.append(sentence(rng, FILLER, 2, 6, 0.0, tuple(chr(c) for c in FORMAT_CHARS) + (" ",)))
    return out


@category("whitespace")
def gen_whitespace(rng):
    """Every Unicode White_Space character between words, leading, trailing and in runs; CR LF; and
    space-like characters that are not White_Space (U+180E, ZWSP, braille blank, Hangul fillers, BOM)."""
    out = ["a%sb" % chr(c) for c in WHITE_SPACE] + ["a%sb" % chr(c) for c in NOT_WHITE_SPACE]
    out += ["%shello%s" % (chr(c), chr(c)) for c in (0x09, 0x0A, 0x0D, 0xA0, 0x3000, 0x2028)]
    out += ["a\r\nb", "a \t \n b", "line one\nline two\r\nline three\rline four", "a" + chars(WHITE_SPACE) + "b"]
    while len(out) < 70:
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 6))]
        out.append(run_of(rng, WHITE_SPACE, 1, 6) + run_of(rng, WHITE_SPACE, 1, 6).join(words)
                   + run_of(rng, WHITE_SPACE, 1, 6))
    return out


@category("replacement_char")
def gen_replacement_char(rng):
    """U+FFFD REPLACEMENT CHARACTER (removed by clean_text) alone, in runs and inside words."""
    pool = ["a\ufffdb", "\ufffd", "\ufffd\ufffd\ufffd", "caf\ufffd", "\ufffd start", "end \ufffd", "x \ufffd y"]
    return fill(rng, 30, pool, lambda: sentence(rng, ["\ufffd", "w\ufffdrd", "\ufffd\ufffd"], 2, 6, 0.5))


@category("private_use")
def gen_private_use(rng):
    """Private-use characters (Co: removed by clean_text) in the BMP and planes 15-16."""
    out = ["a%sb" % chr(c) for c in PRIVATE_USE] + [chr(c) for c in PRIVATE_USE]
    while len(out) < 30:
        out.append(sentence(rng, [chr(c) for c in PRIVATE_USE] + ["x" + chr(0xE000) + "y"], 2, 5, 0.5))
    return out


@category("noncharacters")
def gen_noncharacters(rng):
    """Noncharacters (U+FDD0.., U+FFFE, U+FFFF, U+1FFFE, U+10FFFF ...): unassigned (Cn), kept by clean_text."""
    out = ["a%sb" % chr(c) for c in NONCHARACTERS] + [chr(c) for c in NONCHARACTERS]
    while len(out) < 30:
        out.append(sentence(rng, [chr(c) for c in NONCHARACTERS], 2, 5, 0.5))
    return out


@category("unassigned")
def gen_unassigned(rng):
    """Code points unassigned in Unicode 14 and 17 (Cn; kept by clean_text): BMP, planes 2-14, and some
    inside the BERT CJK ranges (U+FA6E, U+FADA, U+2B81E, U+2CEAE, U+2FA1E), which still get spaces around."""
    out = ["a%sb" % chr(c) for c in UNASSIGNED] + [chr(c) for c in UNASSIGNED]
    while len(out) < 50:
        out.append(sentence(rng, [chr(c) for c in UNASSIGNED], 2, 5, 0.5, (" ", "")))
    return out


@category("long_words")
def gen_long_words(rng):
    """Words around max_input_chars_per_word (100): 99, 100, 101, 150 and 500 code points, of letters, of
    pieces that exist ("ab" * 50), of digits; accented ones whose length changes under NFD or accent
    stripping (100 x NFC é = 100 code points, 200 after NFD; cased keeps them, uncased strips to 100)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for n in (99, 100, 101, 150, 500):
        out.append("a" * n)
        out.append("".join(rng.choice(letters) for _ in range(n)))
        out.append(("ab" * n)[:n])
        out.append(("Ab" * n)[:n])
        out.append("x " + "é" * n + " y")
        out.append(nfd("é" * n))
        out.append("é" * (n - 1) + "e")
        out.append("1" * n)
    out += ["a" * 99 + "\u0301", "a" * 100 + "\u0301", "a" * 99 + "é", "a" * 100 + "é", "a" * 100 + "\u200b",
            "a" * 98 + "\ufffd" + "bb", "a" * 100 + "!" + "b" * 100, "漢" * 150, "𠀀" * 101, "ß" * 101]
    while len(out) < 60:
        out.append("".join(rng.choice(letters + "éüñ") for _ in range(rng.randint(90, 110))))
    return out


@category("long_line")
def gen_long_line(rng):
    """Long lines: one of exactly 5,000 characters (words, punctuation, accents, CJK and emoji), others of
    1,000-3,000 characters, and a 5,000-character run without spaces."""
    pool = FILLER + ACCENTED + ["中文", "😀", "...", "(x)", "3.14", "ΟΔΟΣ"]

    def line(n):
        out = ""
        while len(out) < n:
            out += rng.choice(pool) + rng.choice((" ", " ", " ", ", ", ". "))
        return out[:n]
    return [line(5000), line(1000), line(2000), line(3000), "".join(rng.choice("abcdefgh") for _ in range(5000))]


@category("digits")
def gen_digits(rng):
    """Numbers: long digit strings, decimals, thousands separators, dates, phone numbers, non-ASCII digits
    (Arabic-Indic, Devanagari, fullwidth, mathematical), circled and superscript numbers, fractions, Roman."""
    pool = ["1234567890" * 3, "3.14159265358979", "1,000,000", "2024-01-31", "+1 (555) 123-4567", "9" * 150,
            "0.000001", "1e-10", "٣٤٥", "१२३", "１２３", "𝟙𝟚𝟛", "①②③", "½ ¼ ¾", "x² y³ z¹", "Ⅻ ⅻ", "007",
            "12:30:45", "10%", "#1", "v1.2.3", "1/2", "-42", "+42", "0x1F", "1_000_000"]
    return fill(rng, 40, pool, lambda: " ".join(str(rng.randint(0, 10 ** rng.randint(1, 40)))
                                                for _ in range(rng.randint(1, 4))))


@category("urls")
def gen_urls(rng):
    """URLs: schemes, ports, user info, queries, fragments, IDN and non-ASCII paths, percent-escapes."""
    pool = ["https://example.com/path?q=1&x=y#frag", "http://xn--bcher-kva.example/", "https://例え.jp/パス",
            "ftp://user:pass@host:21/file.txt", "www.example.org", "https://t.co/AbC123xYz",
            "http://localhost:8080/api/v1/users/42", "https://en.wikipedia.org/wiki/Caf%C3%A9",
            "mailto:someone@example.com", "https://münchen.de/straße", "file:///C:/Users/test/a.txt",
            "https://example.com/a_b-c~d", "see <https://example.com>.", "(http://example.com/x)"]
    return fill(rng, 40, pool, lambda: "visit https://%s.%s/%s?%s=%d" % (
        rng.choice(FILLER).lower(), rng.choice(("com", "org", "io")), rng.choice(FILLER), rng.choice(FILLER),
        rng.randint(0, 999)))


@category("emails")
def gen_emails(rng):
    """E-mail addresses, ASCII and internationalised, with plus tags, quotes and dots."""
    pool = ["john.doe+tag@example.com", "用户@例子.广告", "O'Connor@example.ie", "a@b.c", "\"quoted name\"@example.com",
            "first_last@sub.domain.co.uk", "Ñoño@ejemplo.es", "x@[192.168.0.1]", "email me at bob@example.com!"]
    return fill(rng, 30, pool, lambda: "%s.%s@%s.com" % (rng.choice(FILLER), rng.choice(FILLER), rng.choice(FILLER)))


@category("code")
def gen_code(rng):
    """Code snippets: Python, C, HTML, SQL, shell, JavaScript, JSON, identifiers in every case style."""
    pool = ["def f(x): return x**2", "for (int i = 0; i < n; ++i) { a[i] = b[i] << 2; }",
            "<div class=\"a\">&amp;</div>", "SELECT * FROM t WHERE id = 42;", "$HOME/.bashrc && echo $?",
            "x => x?.y ?? z", "#include <stdio.h>", "{\"key\": [1, 2, 3]}",
            "snake_case camelCase PascalCase kebab-case",
            "a==b!=c<=d>=e", "__init__", "C++ C# F#", "if (a && b || !c) {}", "print(f\"{x!r:>10}\")",
            "std::vector<int> v;", "@decorator\ndef g():\n\tpass", "console.log(`${a}`);", "x += 1 // comment",
            "/* block */", "a->b", "'single' \"double\" `back`", "0b1010 0o17 0xFF", "regex: ^[a-z]+\\d*$"]
    return fill(rng, 40, pool, lambda: sentence(rng, pool, 1, 3, 0.2, ("\n", "; ", " ")))


@category("math")
def gen_math(rng):
    """Mathematical notation: operators (∑ ∫ ≤ ≥ ≠ ≈ ∞ ∂ √), set symbols, Greek, sub- and superscripts,
    mathematical alphanumerics (astral letters), arrows."""
    pool = ["∑ᵢ xᵢ² ≤ ∫₀¹ f(x) dx", "∀x∈ℝ: x² ≥ 0", "√2 ≈ 1.414", "π ≠ 3", "α+β=γ", "∞", "∂f/∂x", "ℵ₀",
            "⊂ ⊆ ∪ ∩", "± × ÷", "𝔸𝔹ℂ", "𝑥 + 𝑦", "f: A → B", "∮ ∯ ∰", "⌈x⌉ ⌊y⌋", "∃!x", "∅", "a ⊕ b", "n!",
            "x⁻¹", "∇·E = ρ/ε₀", "⟨ψ|φ⟩", "∴ ∵", "−1"]
    sym = assigned(0x2200, 0x22FF)
    return fill(rng, 40, pool, lambda: " ".join(chr(rng.choice(sym)) if rng.random() < 0.5 else rng.choice("xyzabn0123")
                                                for _ in range(rng.randint(3, 9))))


@category("currency")
def gen_currency(rng):
    """Currency signs (€ £ ¥ ₹ $ ¢ ₩ ₽ ₿ ₺ ¤ ...) before and after amounts."""
    pool = ["€100", "£50", "¥1000", "₹500", "$5", "5¢", "₩1000", "₽99", "₿0.5", "₺20", "US$1", "100 €", "¤",
            "€1.234,56", "$1,234.56", "CHF 10.-", "₫", "₪", "฿", "﷼", "₴", "₦"]
    signs = assigned(0x20A0, 0x20C0) + [0x24, 0xA2, 0xA3, 0xA5]
    return fill(rng, 40, pool, lambda: "%s%d.%02d" % (chr(rng.choice(signs)), rng.randint(0, 99999),
                                                      rng.randint(0, 99)))


@category("ascii_punct")
def gen_ascii_punct(rng):
    """Every ASCII punctuation character alone, in runs, and glued to words (including $ + < = > ^ ` | ~,
    which are symbols in Unicode but punctuation for BERT)."""
    out = list(ASCII_PUNCTUATION) + [ASCII_PUNCTUATION, "word%sword" % ASCII_PUNCTUATION]
    out += ["hello!!!", "what?!", "(a)", "a.b.c", "...", "--", "'quoted'", "\"double\"", "a_b", "a\\b",
            "#hashtag @mention", "don't", "U.S.A.", "e.g.", "&c", "1+1=2", "~user", "a|b", "^_^", "<3", ":-)"]
    return fill(rng, 80, out, lambda: rng.choice(FILLER) + run_of(rng, [ord(c) for c in ASCII_PUNCTUATION], 1, 4)
                + rng.choice(FILLER))


@category("dashes_quotes")
def gen_dashes_quotes(rng):
    """Unicode dashes and quotation marks (punctuation), and look-alikes that are symbols (− minus sign)."""
    pool = ["a‐b", "a‑b", "1‒2", "1–2", "a—b", "a―b", "‘single’", "“double”", "„German“", "«French»", "‹a›",
            "′ ″ ‴", "‛‟", "a⸺b⸻c", "〜", "﹏", "a－b", "x₋1", "a−b", "a⁓b", "―", "⸗", "〰", "'a'", "‚low‘",
            "don’t", "rock ’n’ roll"]
    return fill(rng, 40, pool)


@category("special_tokens")
def gen_special_tokens(rng):
    """[CLS] [SEP] [UNK] [MASK] [PAD] written inside texts (cut out whole, before normalisation) and
    near-misses that are ordinary text: other case, missing or extra brackets, spaces, fullwidth brackets,
    [unusedN] (in the vocabulary but not a special token), ## prefixes."""
    specials = ["[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]"]
    pool = ["[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]", "Hello [SEP] world", "[CLS][SEP]", "x[MASK]y",
            "[UNK][UNK]", "[[CLS]]", "[CLS", "[cls]", "[SEP ]", "[ SEP]", "[unused0]", "[Sep]", "[CLS]]",
            "［CLS］", "[MASK]s", "##s", "##", "#", "[UNK", "CLS]", "[MASK]ing is [MASK].", "[sep]", "[SEP]]]",
            "é[SEP]é", "ΟΔΟΣ[SEP]ΟΔΟΣ", "中[SEP]文", "[CLS]" * 5, " [PAD] [PAD] "]
    near = ["[cls]", "[CLS", "SEP]", "[ MASK ]", "[Unk]", "[PAD ]", "[unused1]", "[UNK]"]

    def make():
        return sentence(rng, specials + near, 2, 7, 0.5, (" ", "", ", "))
    out = fill(rng, 50, pool, make)
    while len(out) < 60:
        out.append((make(), make()))
    return out


@category("empty")
def gen_empty(rng):
    """Empty texts and pairs with an empty side (an empty pair is still a pair in Rust, not in the JS
    engine: see tools/wordpiece.py)."""
    return ["", ("", ""), ("", "x"), ("x", ""), ("Hello", ""), ("", " "), (" ", ""), ("[SEP]", "")]


@category("whitespace_only")
def gen_whitespace_only(rng):
    """Texts that normalise to nothing: White_Space only, controls only, format characters only."""
    out = [" ", "   ", "\t\n", "\u3000", "\u00a0", "\u2028", "\r\n", "\x00\x01", "\u200b\u200d", "\ufeff",
           chars(WHITE_SPACE), "\ufffd", "\x7f", chr(0xE000), "\u0085", "\x0b\x0c", (" ", " "), ("\t", "\u3000")]
    while len(out) < 30:
        out.append("".join(chr(rng.choice(WHITE_SPACE + FORMAT_CHARS + CONTROLS)) for _ in range(rng.randint(1, 10))))
    return out


@category("mixed")
def gen_mixed(rng):
    """Lines mixing material of all the categories above (scripts, accents, emoji, punctuation, controls,
    special tokens), a third of them as text pairs."""
    pools = [ACCENTED, [nfd(w) for w in ACCENTED], EMOJI, FILLER, list(ASCII_PUNCTUATION),
             ["ΟΔΟΣ", "ΣΟΦΟΣ", "Привет", "İstanbul", "Straße", "ﬁ", "中文", "𠀀", "ｶﾀｶﾅ", "한국어", "مَرْحَبًا",
              "שָׁלוֹם", "नमस्ते", "বাংলা", "สวัสดี", "தமிழ்", "[SEP]", "[cls]", "\u200b", "\u00a0", "\x00", "\ufffd",
              "a\u0301", "1\ufe0f\u20e3", "€5", "∑", "—", "“q”"]]

    def make():
        return " ".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 12)))
    out = []
    while len(out) < 200:
        out.append((make(), make()) if rng.random() < 1 / 3 else make())
    return out


def synthetic_lines(seed=SEED):
    """[(text, pair or None, source)] of every synthetic category, in CATEGORIES order."""
    out = []
    for name, fn in CATEGORIES.items():
        rng = random.Random("%d/%s" % (seed, name))
        for k, item in enumerate(fn(rng)):
            text, pair = item if isinstance(item, tuple) else (item, None)
            where = "synthetic/%s line %d" % (name, k)
            check_text(text, where)
            if pair is not None:
                check_text(pair, where)
            out.append((text, pair, "synthetic/" + name))
    return out


# ------------------------------------------------------------------------------------------------
# Lines sampled from the datasets
# ------------------------------------------------------------------------------------------------


def data_lines(data_dir, seed=SEED, quota=None, log=None):
    """[(text, pair or None, source)] sampled from each dataset's train and dev splits (see the module
    docstring). Texts holding a code point unassigned in Unicode 14 are left out (none today)."""
    quota = DATA_QUOTA if quota is None else quota
    out = []
    for dataset in datasets.DATASETS:
        for split in ("train", "dev"):
            texts = [t for _, _, t in datasets.iter_texts(data_dir, (split,), (dataset,))]
            rng = random.Random("%d/%s/%s" % (seed, dataset, split))
            picks = sorted(rng.sample(range(len(texts)), min(quota[split], len(texts))))
            dropped = 0
            for i in picks:
                pair = None
                if rng.random() < PAIR_SHARE and i + 1 < len(texts):
                    pair = texts[i + 1]
                try:
                    check_text(texts[i], "")
                    if pair is not None:
                        check_text(pair, "")
                except CorpusError:
                    dropped += 1
                    continue
                out.append((texts[i], pair, "%s/%s" % (dataset, split)))
            if dropped and log:
                log("note: %s/%s: %d texts left out (code points unassigned in Unicode 14)" % (dataset, split, dropped))
    return out


# Characters json.dumps(ensure_ascii=False) leaves raw but some readers take for line ends.
_ESCAPE = {cp: "\\u%04x" % cp for cp in [0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]}


def dumps_line(text, pair, source):
    """One corpus line (without its "\\n"): {"text", "pair" (when not None), "source"}."""
    obj = {"text": text}
    if pair is not None:
        obj["pair"] = pair
    obj["source"] = source
    return json.dumps(obj, ensure_ascii=False).translate(_ESCAPE)


def write_corpus(path, data_dir=None, seed=SEED, log=None):
    """Writes the corpus; returns {source: number of lines}."""
    lines = []
    if data_dir is not None:
        lines += data_lines(data_dir, seed, log=log)
    lines += synthetic_lines(seed)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    counts = {}
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for text, pair, source in lines:
            f.write(dumps_line(text, pair, source) + "\n")
            counts[source] = counts.get(source, 0) + 1
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="make_tokcorpus.py", description="Write the tokenizer test corpus (JSONL).")
    ap.add_argument("-o", "--out", required=True, help="output .jsonl path")
    ap.add_argument("--data", default=datasets.DEFAULT_DATA_DIR, help="data folder (default ../shared/data)")
    ap.add_argument("--no-data", action="store_true", help="synthetic lines only")
    ap.add_argument("--seed", type=int, default=SEED, help="random seed (default %d)" % SEED)
    args = ap.parse_args(argv)

    def log(msg):
        print("make_tokcorpus.py: " + msg, file=sys.stderr)
    data_dir = None if args.no_data else args.data
    if data_dir is not None and not os.path.isdir(data_dir):
        log("note: data folder %s not found: synthetic lines only" % data_dir)
        data_dir = None
    try:
        counts = write_corpus(args.out, data_dir, args.seed, log)
    except (datasets.DataError, CorpusError) as e:
        print("make_tokcorpus.py: error: %s" % e, file=sys.stderr)
        return 1
    data = sum(n for s, n in counts.items() if not s.startswith("synthetic/"))
    synth = sum(n for s, n in counts.items() if s.startswith("synthetic/"))
    print("wrote %s: %d lines (%d from the datasets, %d synthetic in %d categories)"
          % (args.out, data + synth, data, synth, sum(1 for s in counts if s.startswith("synthetic/"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
